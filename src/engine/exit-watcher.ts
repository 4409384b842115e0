import { watchExitDir } from '../drivers/runtime/exit-file.ts';
import type { ContainerService } from './containers/service.ts';
import type { ReconcileGate } from './reconcile-gate.ts';
import type { VmService } from './vms/service.ts';

/** How often a long-running engine (the daemon) reconciles in full (stray mounts, interrupted removals). */
const RECONCILE_EVERY_MS = 15_000;
/** How often it looks for monitors that died (kill -9, OOM killer): they leave no exit file to watch. */
const MONITOR_CHECK_EVERY_MS = 1_000;

/**
 * For a long-running engine: records every exit as the monitor writes its exit file (inotify on the exits
 * directory), so that `ps`, `wait`, `--rm` and restart policies follow at once even when the monitor's exit command
 * is slow or failed; and reconciles now and then. Monitors' exit commands race with this harmlessly: an exit is
 * claimed once (ContainerService.finalize). Returns a stop function.
 */
export function watchExits(containers: ContainerService, exitsDir: string, gate?: ReconcileGate): () => void {
  const busy = new Set<string>();
  const record = (id: string) => {
    if (!/^[0-9a-f]{64}$/.test(id) || busy.has(id)) return;
    busy.add(id);
    // A container still pending in the start-up reconcile is that reconcile's to finish first.
    (gate ? gate.waitObject('container', id) : Promise.resolve())
      .then(() => containers.onExit(id))
      .catch(() => {})
      .finally(() => busy.delete(id));
  };
  const unwatch = watchExitDir(exitsDir, record);
  // Never beside the start-up reconcile: both would tear the same containers down at once.
  const reconcile = oneAtATime(async () => {
    await gate?.waitAll();
    await containers.reconcile();
  });
  const timer = setInterval(reconcile.run, RECONCILE_EVERY_MS);
  timer.unref();
  const monitors = setInterval(() => {
    if (!reconcile.running() && containers.hasDeadMonitor()) reconcile.run();
  }, MONITOR_CHECK_EVERY_MS);
  monitors.unref();
  return () => {
    unwatch();
    clearInterval(timer);
    clearInterval(monitors);
  };
}

/**
 * For a long-running engine: finalizes VMs whose QEMU ended without a command of ours asking (kill -9, a crash, a
 * guest that powered itself off), so that `vm ls` through the daemon shows it at once and the taps go. Returns a
 * stop function.
 */
export function watchVms(vms: VmService, gate?: ReconcileGate): () => void {
  const reconcile = oneAtATime(async () => {
    await gate?.waitAll();
    await vms.reconcile();
  });
  const timer = setInterval(() => {
    if (!reconcile.running() && vms.hasDeadQemu()) reconcile.run();
  }, MONITOR_CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Runs `task` in the background unless a run is still going (a reconcile must not overlap itself). */
function oneAtATime(task: () => Promise<unknown>): { run: () => void; running: () => boolean } {
  let going = false;
  return {
    run: () => {
      if (going) return;
      going = true;
      task()
        .catch(() => {})
        .finally(() => {
          going = false;
        });
    },
    running: () => going,
  };
}
