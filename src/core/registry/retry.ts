/**
 * When a registry request is worth repeating, and how long to wait. Pure: the transport sleeps.
 * Transient: connection resets and time-outs, 5xx other than 501, and 429 (with Retry-After honoured).
 */
export interface RetryPolicy {
  attempts: number; // total tries, >= 1
  baseDelayMs: number; // first wait; doubles each time
  maxDelayMs: number; // cap for the computed backoff and for Retry-After
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 };

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

export function isTransientStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

export function isTransientError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  return err instanceof Error && /socket hang up/.test(err.message);
}

/** Delay before retry number `retry` (1 = first retry); Retry-After (seconds or an HTTP date) wins when given. */
export function retryDelay(
  retry: number,
  policy: RetryPolicy,
  retryAfter?: string,
  now: number = Date.now(),
): number {
  if (retryAfter !== undefined) {
    const trimmed = retryAfter.trim();
    let ms: number | undefined;
    if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
    else {
      const at = Date.parse(trimmed);
      if (!Number.isNaN(at)) ms = Math.max(0, at - now);
    }
    if (ms !== undefined) return Math.min(ms, policy.maxDelayMs);
  }
  return Math.min(policy.baseDelayMs * 2 ** (retry - 1), policy.maxDelayMs);
}
