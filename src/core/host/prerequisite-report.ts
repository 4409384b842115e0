/**
 * The vocabulary of `system check`. A *prerequisite* is one thing looked for (a command, a kernel feature, a device);
 * it belongs to a *group* (containers, networking, images, vms); it is *required* when containers cannot run
 * without it, otherwise optional (VMs are optional on a host: a host without QEMU still runs containers). The
 * *verdict* is ok when every required prerequisite is present. Every fact comes through a `HostProbe`.
 */

/** The facts a check can ask about the host. Every method answers "not there" instead of throwing. */
export interface HostProbe {
  /** The absolute path of an executable found on the search path (sbin directories included), if any. */
  which(command: string): Promise<string | undefined>;
  /** Combined stdout and stderr of a short command (a version query), or undefined when it failed to run. */
  output(file: string, args: string[]): Promise<string | undefined>;
  /** A text file's content, or undefined when it cannot be read. */
  readText(path: string): Promise<string | undefined>;
  /** The first bytes of a file (at most `length`), or undefined when it cannot be read. */
  readHead(path: string, length: number): Promise<Uint8Array | undefined>;
  exists(path: string): Promise<boolean>;
  /** `uname -r`: names the module directory under /lib/modules. */
  kernelRelease(): string;
}

export type PrerequisiteGroup = 'containers' | 'networking' | 'images' | 'vms';

export interface PrerequisiteResult {
  name: string;
  group: PrerequisiteGroup;
  required: boolean;
  status: 'ok' | 'missing';
  /** Where it was found: an executable's path, a device node. */
  path?: string;
  version?: string;
  /** What was seen beyond a version (cgroup controllers, how overlayfs is available), or why it is missing. */
  detail?: string;
  /** The one command (or step) that makes a missing prerequisite present. */
  hint: string;
  /** The Debian package that provides it, when a package does. */
  package?: string;
  /** What it is needed for, in a few words. */
  purpose: string;
}

export interface PrerequisiteReport {
  /** True when every required prerequisite is present. */
  ok: boolean;
  checks: PrerequisiteResult[];
  /** Names of the required prerequisites that are missing. */
  missingRequired: string[];
}

/** The report for a list of results: ok when no required one is missing. */
export function verdict(checks: PrerequisiteResult[]): PrerequisiteReport {
  const missingRequired = checks.filter((c) => c.required && c.status === 'missing').map((c) => c.name);
  return { ok: missingRequired.length === 0, checks, missingRequired };
}

/**
 * One apt-get command installing the packages of the missing prerequisites (of `which`: the required ones, or all),
 * or undefined when none of them is a package away.
 */
export function installCommand(report: PrerequisiteReport, which: 'required' | 'all'): string | undefined {
  const packages = report.checks
    .filter((c) => c.status === 'missing' && c.package !== undefined && (which === 'all' || c.required))
    .map((c) => c.package!);
  return packages.length === 0 ? undefined : apt([...new Set(packages)].join(' '));
}

export const apt = (pkg: string) => `apt-get install -y ${pkg}`;

/** The first match's first group, or the output's first non-empty line when the pattern does not match. */
export function parseVersion(output: string, pattern: RegExp): string | undefined {
  const m = pattern.exec(output);
  if (m?.[1]) return m[1];
  const line = output.split('\n').find((l) => l.trim() !== '');
  return line?.trim().slice(0, 60);
}
