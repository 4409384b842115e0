import {
  apt,
  type HostProbe,
  type PrerequisiteGroup,
  type PrerequisiteResult,
  parseVersion,
} from './prerequisite-report.ts';

export interface CommandSpec {
  name: string;
  group: PrerequisiteGroup;
  required: boolean;
  purpose: string;
  /** Executables to look for, in order of preference. */
  commands: string[];
  versionArgs: string[];
  /** Pulls the version out of the version command's output. */
  version: RegExp;
  pkg: string;
}

/** The commands hyperbox runs, in the order they are reported. */
export const COMMAND_PREREQUISITES: readonly CommandSpec[] = [
  {
    name: 'runc',
    group: 'containers',
    required: true,
    purpose: 'OCI runtime',
    commands: ['runc'],
    versionArgs: ['--version'],
    version: /runc version (\S+)/,
    pkg: 'runc',
  },
  {
    name: 'conmon',
    group: 'containers',
    required: true,
    purpose: 'container monitor',
    commands: ['conmon'],
    versionArgs: ['--version'],
    version: /conmon version (\S+)/,
    pkg: 'conmon',
  },
  {
    // The static build is what --init mounts into a container (it runs whatever libc the image has, or none):
    // a dynamically linked tini alone does not do.
    name: 'tini',
    group: 'containers',
    required: false,
    purpose: 'init process for --init',
    commands: ['tini-static'],
    versionArgs: ['--version'],
    version: /tini version (\S+)/,
    pkg: 'tini',
  },
  {
    name: 'ip',
    group: 'networking',
    required: true,
    purpose: 'links and addresses (iproute2)',
    commands: ['ip'],
    versionArgs: ['-V'],
    version: /iproute2-(\S+?),?\s/,
    pkg: 'iproute2',
  },
  {
    name: 'iptables',
    group: 'networking',
    required: true,
    purpose: 'NAT and published ports',
    commands: ['iptables'],
    versionArgs: ['--version'],
    version: /iptables v(\S+(?: \([^)]*\))?)/,
    pkg: 'iptables',
  },
  {
    name: 'nft',
    group: 'networking',
    required: false,
    purpose: 'nftables rules',
    commands: ['nft'],
    versionArgs: ['--version'],
    version: /nftables v(\S+)/,
    pkg: 'nftables',
  },
  {
    name: 'skopeo',
    group: 'images',
    required: false,
    purpose: 'copying images between registries and archives',
    commands: ['skopeo'],
    versionArgs: ['--version'],
    version: /skopeo version (\S+)/,
    pkg: 'skopeo',
  },
  {
    name: 'qemu-system-x86_64',
    group: 'vms',
    required: false,
    purpose: 'virtual machines',
    commands: ['qemu-system-x86_64'],
    versionArgs: ['--version'],
    version: /QEMU emulator version (\S+)/,
    pkg: 'qemu-system-x86',
  },
  {
    name: 'qemu-img',
    group: 'vms',
    required: false,
    purpose: 'VM disk images',
    commands: ['qemu-img'],
    versionArgs: ['--version'],
    version: /qemu-img version (\S+)/,
    pkg: 'qemu-utils',
  },
];

/** A command found on the path that runs and says its version. */
export async function checkCommand(probe: HostProbe, spec: CommandSpec): Promise<PrerequisiteResult> {
  const base = {
    name: spec.name,
    group: spec.group,
    required: spec.required,
    purpose: spec.purpose,
    hint: apt(spec.pkg),
    package: spec.pkg,
  };
  for (const command of spec.commands) {
    const found = await probe.which(command);
    if (!found) continue;
    const out = await probe.output(found, spec.versionArgs);
    const version = out === undefined ? undefined : parseVersion(out, spec.version);
    if (out === undefined) {
      return { ...base, status: 'missing', path: found, detail: `${found} does not run` };
    }
    return { ...base, status: 'ok', path: found, ...(version ? { version } : {}) };
  }
  return { ...base, status: 'missing', detail: `${spec.commands.join(' or ')}: not found` };
}
