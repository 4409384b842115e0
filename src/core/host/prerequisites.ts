/**
 * What hyperbox needs from the host, and the verdict on a given host. Pure: every fact comes through a
 * `HostProbe` (drivers/host/host-probe.ts reads the real machine; tests pass a fake), so the rules — what is
 * required, how a version is read, which package to install — are tested without root.
 *
 * Vocabulary: a *prerequisite* is one thing looked for (a command, a kernel feature, a device); it belongs to a
 * *group* (containers, networking, images, vms); it is *required* when containers cannot run without it, otherwise
 * optional (VMs are optional on a host: a host without QEMU still runs containers). The *verdict* is ok when every
 * required prerequisite is present.
 */

import { checkCgroups } from './cgroup-checks.ts';
import { COMMAND_PREREQUISITES, checkCommand } from './command-checks.ts';
import { checkBusybox, checkKvm, checkLogWriter, checkOverlay } from './feature-checks.ts';
import {
  type HostProbe,
  type PrerequisiteReport,
  type PrerequisiteResult,
  verdict,
} from './prerequisite-report.ts';

/** Looks at every prerequisite through `probe`; never throws for a missing one. */
export async function checkPrerequisites(
  probe: HostProbe,
  opts: { logWriter?: string } = {},
): Promise<PrerequisiteReport> {
  const commands = await Promise.all(COMMAND_PREREQUISITES.map((spec) => checkCommand(probe, spec)));
  const byName = new Map(commands.map((r) => [r.name, r]));
  const checks: PrerequisiteResult[] = [
    byName.get('runc')!,
    byName.get('conmon')!,
    ...(opts.logWriter ? [await checkLogWriter(probe, opts.logWriter)] : []),
    byName.get('tini')!,
    await checkOverlay(probe),
    await checkCgroups(probe),
    byName.get('ip')!,
    byName.get('iptables')!,
    byName.get('nft')!,
    await checkBusybox(probe),
    byName.get('skopeo')!,
    byName.get('qemu-system-x86_64')!,
    byName.get('qemu-img')!,
    await checkKvm(probe),
  ];
  return verdict(checks);
}
