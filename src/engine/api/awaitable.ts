/**
 * An answer that the in-process engine may give at once and the daemon's client gives later: callers always
 * `await` it, so either implementation fits.
 */
export type Awaitable<T> = T | Promise<T>;
