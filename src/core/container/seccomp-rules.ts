import { InvalidArgumentError } from '../errors.ts';
import type { OciSeccomp, OciSeccompSyscall } from './oci-types.ts';

/**
 * A seccomp profile with conditions, in the vocabulary docker's profiles use (and docker's JSON profiles can be read
 * into): a rule carries `includes` and `excludes` that decide, for one container on one host, whether the rule is
 * part of that container's filter at all. Resolving turns it into the flat OCI list runc loads.
 *
 * - `includes`: the rule is kept only if every condition holds: the host's architecture is one of `arches`, the
 *   container holds every capability in `caps` (its bounding set), the kernel is at least `minKernel`.
 * - `excludes`: the rule is dropped if any condition holds: the architecture is one of `arches`, the container
 *   holds any of `caps`, the kernel is at least `minKernel`.
 *
 * Architectures are named as docker names them (`amd64`, `arm64`, `x86`, `x32`, `s390x`, ...), not as Node does.
 */
export interface SeccompCondition {
  arches?: readonly string[];
  caps?: readonly string[];
  /** "MAJOR.MINOR": only the first two numbers of the kernel release count, as in docker. */
  minKernel?: string;
}

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface ConditionalRule {
  names: readonly string[];
  action: string;
  errnoRet?: number;
  args?: readonly SeccompArg[];
  includes?: SeccompCondition;
  excludes?: SeccompCondition;
  /** Why the rule is there (kept out of the resolved profile). */
  comment?: string;
}

export interface ConditionalProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  /** Per native architecture, the other ABIs its kernel also runs (x86_64 runs i386 and x32 programs). */
  archMap: readonly { architecture: string; subArchitectures: readonly string[] | null }[];
  syscalls: readonly ConditionalRule[];
}

/** The facts about one container and its host that decide which conditional rules apply. */
export interface SeccompTarget {
  /** Docker's name for the host's architecture (see seccompArchOf). */
  arch: string;
  /** The container's capabilities (bounding set). */
  capabilities: readonly string[];
  /** The host's kernel release, as uname -r prints it. */
  kernelRelease: string;
}

// Node's process.arch -> docker's (libseccomp's) native architecture name.
const NODE_TO_NATIVE: Readonly<Record<string, string>> = {
  x64: 'amd64',
  ia32: 'x86',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le', // Node runs on little-endian ppc64 only
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips64el: 'mipsel64',
  mipsel: 'mipsle',
};

// Docker's native name -> the architecture the kernel's seccomp reports (AUDIT_ARCH_*), as libseccomp names it.
const NATIVE_TO_SCMP: Readonly<Record<string, string>> = {
  amd64: 'SCMP_ARCH_X86_64',
  x86: 'SCMP_ARCH_X86',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
  loong64: 'SCMP_ARCH_LOONGARCH64',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsle: 'SCMP_ARCH_MIPSEL',
};

/** Docker's name for the architecture Node reports in `process.arch` (the name itself when there is none). */
export function seccompArchOf(nodeArch: string): string {
  return NODE_TO_NATIVE[nodeArch] ?? nodeArch;
}

/** The kernel's "MAJOR.MINOR" from a release such as "6.1.0-13-amd64" or "3.12-1-amd64". */
export function kernelVersionOf(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release.trim());
  if (!m)
    throw new InvalidArgumentError(`cannot read a kernel version from "${release}": expected MAJOR.MINOR...`);
  return [Number(m[1]), Number(m[2])];
}

function kernelAtLeast(release: string, min: string): boolean {
  const [major, minor] = kernelVersionOf(release);
  const [wantMajor, wantMinor] = kernelVersionOf(min);
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

function applies(rule: ConditionalRule, target: SeccompTarget): boolean {
  const ex = rule.excludes;
  if (ex) {
    if (ex.arches?.includes(target.arch)) return false;
    if (ex.caps?.some((c) => target.capabilities.includes(c))) return false;
    if (ex.minKernel !== undefined && kernelAtLeast(target.kernelRelease, ex.minKernel)) return false;
  }
  const inc = rule.includes;
  if (inc) {
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(target.arch)) return false;
    if (inc.caps && !inc.caps.every((c) => target.capabilities.includes(c))) return false;
    if (inc.minKernel !== undefined && !kernelAtLeast(target.kernelRelease, inc.minKernel)) return false;
  }
  return true;
}

/** The OCI seccomp section for one container: the rules whose conditions hold, without their conditions. */
export function resolveProfile(profile: ConditionalProfile, target: SeccompTarget): OciSeccomp {
  const native = NATIVE_TO_SCMP[target.arch];
  const entry = profile.archMap.find((a) => a.architecture === native);
  const syscalls = profile.syscalls
    .filter((rule) => applies(rule, target))
    .map(
      (rule): OciSeccompSyscall => ({
        names: [...rule.names],
        action: rule.action,
        ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
        ...(rule.args ? { args: rule.args.map((a) => ({ ...a })) } : {}),
      }),
    );
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures: entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : [],
    syscalls,
  };
}
