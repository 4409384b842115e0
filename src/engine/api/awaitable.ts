/**
 * An answer that the in-process engine may give at once and the daemon's client gives later: callers always
 * `await` it, so either implementation fits. (A leaf of its own: the engine's implementation files import the
 * vocabulary of engine/api/, which must not lead them back to the Engine interface and all it imports.)
 */
export type Awaitable<T> = T | Promise<T>;
