import type { ReconcileGate, ReconcileKind } from '../engine/reconcile-gate.ts';

/** What a request waits for while the daemon's start-up reconcile runs. */
export type ReconcileWait =
  | { kind: 'none' }
  | { kind: 'object'; type: ReconcileKind; ref: string }
  | { kind: 'type'; type: ReconcileKind }
  | { kind: 'all' };

/** Native sub-paths of containers and VMs that name no object. */
const NATIVE_COLLECTION_VERBS = new Set(['copy', 'prune', 'stats', 'images']);

/**
 * The rule, by path (the version prefix stripped): a request about one container or VM waits for that object
 * only; a list (or prune, or a copy naming its container in the body) for every pending object of its kind, so
 * that no list shows a half-reconciled state; images and volumes for the containers (they count their users); the
 * daemon's own questions (`_ping`, version, events, auth) and exec sessions (none outlive a daemon) for nothing;
 * anything else — networks, whose reconcile is the last step, info, df, the host — for the whole reconcile.
 */
export function reconcileWaitFor(path: string, query: URLSearchParams): ReconcileWait {
  const parts = path.split('/').filter(Boolean);
  const [first, second] = parts;
  if (['_ping', 'version', 'events', 'auth', 'exec', 'openapi.json'].includes(first ?? ''))
    return { kind: 'none' };
  if (first === 'containers') {
    if (second === 'create') {
      // A new container waits only for a pending one that holds its name (an --rm container about to go).
      const name = query.get('name');
      return name ? { kind: 'object', type: 'container', ref: name } : { kind: 'none' };
    }
    if (second === undefined || second === 'json' || second === 'prune')
      return { kind: 'type', type: 'container' };
    return { kind: 'object', type: 'container', ref: decode(second) };
  }
  if (first === 'images' || first === 'volumes') return { kind: 'type', type: 'container' };
  if (first === 'hyperbox' && second === 'v1') {
    const [, , resource, ref] = parts;
    if (resource === 'events') return { kind: 'none' };
    if (resource === 'containers' || resource === 'vms') {
      const type: ReconcileKind = resource === 'vms' ? 'vm' : 'container';
      if (ref === 'images' && type === 'vm') return { kind: 'none' };
      if (ref === undefined || NATIVE_COLLECTION_VERBS.has(ref)) return { kind: 'type', type };
      return { kind: 'object', type, ref: decode(ref) };
    }
    if (resource === 'images' || resource === 'volumes') return { kind: 'type', type: 'container' };
  }
  return { kind: 'all' };
}

/** Waits as `reconcileWaitFor` says. */
export async function untilReconciled(
  gate: ReconcileGate,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  const wait = reconcileWaitFor(path, query);
  switch (wait.kind) {
    case 'none':
      return;
    case 'object':
      return gate.waitObject(wait.type, wait.ref);
    case 'type':
      return gate.waitKind(wait.type);
    case 'all':
      return gate.waitAll();
  }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
