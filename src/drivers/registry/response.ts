import type { Readable } from 'node:stream';
import { UnavailableError } from '../../core/errors.ts';

/** Reads a small response body whole, refusing more than `max` bytes (a registry is an outside party). */
export async function readBody(body: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > max) {
      body.destroy();
      throw new UnavailableError(`registry response is larger than ${max} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The first message of a registry error body (`{"errors":[{"code":"...","message":"..."}]}`), if any. */
export function registryMessage(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    const errors = (parsed as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const e = errors[0] as { code?: unknown; message?: unknown };
      const code = typeof e.code === 'string' ? e.code.toLowerCase().replace(/_/g, ' ') : undefined;
      const message = typeof e.message === 'string' ? e.message : undefined;
      if (code && message && message.toLowerCase() !== code) return `${code}: ${message}`;
      return message ?? code;
    }
    const detail =
      (parsed as { details?: unknown; error?: unknown }).details ?? (parsed as { error?: unknown }).error;
    if (typeof detail === 'string') return detail;
  } catch {
    // not JSON: fall through
  }
  const text = body.toString('utf8').trim();
  return text === '' ? undefined : text.slice(0, 200);
}
