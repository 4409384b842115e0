import type { LocalEngine } from './local-engine.ts';
import { ReconcileGate } from './reconcile-gate.ts';

/** How many containers (or VMs) the daemon reconciles at once: each is mostly waiting on runc, ip and umount. */
const DAEMON_CONCURRENCY = 4;

/**
 * What every engine does when it starts: containers (exits nobody recorded, dead monitors, removals and starts cut
 * short, stray mounts), then VMs (QEMUs that died), then networks (endpoints of what no longer runs). A CLI waits
 * for it before its command, one object after the other. The daemon passes its gate: the objects are marked
 * pending before it listens and reconciled behind the gate, a few at a time, while it answers.
 */
export function reconcileEngine(engine: LocalEngine, gate?: ReconcileGate): Promise<void> {
  const g = gate ?? new ReconcileGate();
  const concurrency = gate ? DAEMON_CONCURRENCY : 1;
  // A daemon starting restores as dockerd does: --rm containers that do not run go.
  const restore = gate !== undefined;
  const containers = g.hold(
    'container',
    engine.containers.reconcileTargets({ restore }).map((r) => ({ id: r.id, name: r.name })),
  );
  const vms = g.hold(
    'vm',
    engine.vms.reconcileTargets().map((r) => ({ id: r.id, name: r.name })),
  );
  return g.track(
    (async () => {
      await containers((id) => engine.containers.reconcileOne(id, { restore }), concurrency);
      await engine.containers.reconcileStrays();
      await vms((id) => engine.vms.reconcileOne(id), concurrency);
      await engine.networks.reconcile(
        (id) => engine.containers.holdsNetwork(id) || engine.vms.holdsNetwork(id),
      );
    })(),
  );
}
