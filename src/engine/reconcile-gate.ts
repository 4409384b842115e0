/** The kinds of object the daemon reconciles one by one after it began to answer. */
export type ReconcileKind = 'container' | 'vm';

interface Pending {
  id: string;
  name: string;
  done: Promise<void>;
}

/**
 * Which objects a reconcile still has to bring in line, and a promise for each: the daemon listens first and
 * reconciles in the background, and a request that touches an object still pending waits for that object only
 * (a list waits for every pending object of its kind; a network request for the whole reconcile, whose last step
 * is the networks'). Objects are named as requests name them: full id, unique id prefix, or name.
 */
export class ReconcileGate {
  readonly #pending = new Map<ReconcileKind, Map<string, Pending>>([
    ['container', new Map()],
    ['vm', new Map()],
  ]);
  #all: Promise<void> = Promise.resolve();

  /**
   * Marks the objects pending at once (before the daemon listens), and returns what runs their work: at most
   * `concurrency` at a time, each object pending until its own work has ended (a failure ends it too: the object
   * stays as the reconcile left it, and the next reconcile tries again).
   */
  hold(
    kind: ReconcileKind,
    objects: ReadonlyArray<{ id: string; name: string }>,
  ): (work: (id: string) => Promise<void>, concurrency: number) => Promise<void> {
    const pending = this.#pending.get(kind)!;
    const items = objects
      .filter((o) => !pending.has(o.id))
      .map((o) => {
        let resolve!: () => void;
        const done = new Promise<void>((r) => {
          resolve = r;
        });
        pending.set(o.id, { id: o.id, name: o.name, done });
        return {
          id: o.id,
          finish: () => {
            pending.delete(o.id);
            resolve();
          },
        };
      });
    return async (work, concurrency) => {
      let next = 0;
      const lane = async () => {
        while (next < items.length) {
          const item = items[next++]!;
          try {
            await work(item.id);
          } catch {
            // Left as it is: the daemon's next full reconcile (every 15 s) tries again.
          } finally {
            item.finish();
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
    };
  }

  /** The whole reconcile: `waitAll` resolves when `task` has ended; its outcome is the caller's to see. */
  track(task: Promise<void>): Promise<void> {
    this.#all = task.catch(() => {});
    return task;
  }

  /** Resolves once the object `ref` names is reconciled; at once when it is not pending. */
  async waitObject(kind: ReconcileKind, ref: string): Promise<void> {
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    for (const p of this.#pending.get(kind)!.values()) {
      if (
        p.id === ref ||
        p.name === name ||
        (ref.length >= 1 && /^[0-9a-f]+$/.test(ref) && p.id.startsWith(ref))
      ) {
        await p.done;
      }
    }
  }

  /** Resolves once every object of `kind` pending now is reconciled. */
  async waitKind(kind: ReconcileKind): Promise<void> {
    await Promise.all([...this.#pending.get(kind)!.values()].map((p) => p.done));
  }

  /** Resolves once the whole reconcile (containers, VMs, then networks) has ended. */
  waitAll(): Promise<void> {
    return this.#all;
  }

  /** Ids still pending (for the daemon's log and tests). */
  pending(kind: ReconcileKind): string[] {
    return [...this.#pending.get(kind)!.keys()];
  }
}
