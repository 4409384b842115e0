import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { formatPlatform } from '../registry/platform-select.ts';
import type { Platform } from './oci.ts';

/** Node's names for CPU architectures, in the GOARCH spelling images use. */
const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: ARCH[process.arch] ?? process.arch };
}

export function matchesPlatform(candidate: Platform | undefined, want: Platform): boolean {
  if (candidate === undefined) return false;
  return candidate.os === want.os && candidate.architecture === want.architecture;
}

/**
 * docker's refusal of an image for another operating system (distribution/config.go): a Linux host runs Linux
 * images only. Another architecture is not refused: binfmt_misc may emulate it, and docker lets it try.
 */
export function checkRunnableOs(os: string | undefined, host: Platform): void {
  if (os !== undefined && os !== '' && os.toLowerCase() !== host.os) {
    throw new InvalidArgumentError(
      `image operating system ${JSON.stringify(os)} cannot be used on this platform`,
    );
  }
}

/**
 * create's `--platform`: the local image must be of that platform (os, architecture, and the variant when one is
 * asked for), else docker's 404, which makes the docker CLI pull that platform and try again.
 */
export function checkImagePlatform(opts: { ref: string; want: Platform; actual: Platform }): void {
  const { want, actual } = opts;
  const same =
    want.os === actual.os &&
    want.architecture === actual.architecture &&
    (want.variant === undefined || actual.variant === undefined || want.variant === actual.variant);
  if (!same) {
    throw new NotFoundError(
      `image with reference ${opts.ref} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(actual)}`,
    );
  }
}

/** dockerd's warning for an image of another architecture run without `--platform` (it may still work). */
export function foreignArchitectureWarning(actual: Platform, host: Platform): string | undefined {
  if (actual.architecture === host.architecture && actual.os === host.os) return undefined;
  return `The requested image's platform (${formatPlatform(actual)}) does not match the detected host platform (${formatPlatform(host)}) and no specific platform was requested`;
}
