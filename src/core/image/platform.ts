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
