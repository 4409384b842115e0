import { InvalidArgumentError, NotFoundError } from '../core/errors.ts';
import type { Exchange } from './exchange.ts';

export type Handler = (ex: Exchange) => Promise<void> | void;

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

/**
 * Method + path patterns (`/containers/:id/json`) to handlers. Segments match whole; `:name` captures one segment
 * (URL-decoded), a trailing `*name` the rest (image names carry slashes: `/images/library/busybox/json`).
 */
export class Router {
  readonly #routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.#routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** The handler and captured parameters; NotFound when no pattern matches (docker's "page not found"). */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } {
    const parts = path.split('/').filter(Boolean);
    for (const r of this.#routes) {
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params = matchSegments(r.segments, parts);
      if (params) return { handler: r.handler, params };
    }
    throw new NotFoundError(`page not found: ${method} ${path}`);
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith('*')) {
      // The rest, minus any fixed segments that follow the wildcard.
      const tail = pattern.slice(i + 1);
      const rest = parts.slice(i, parts.length - tail.length);
      if (rest.length === 0) return undefined;
      if (!tail.every((t, k) => t === parts[parts.length - tail.length + k])) return undefined;
      params[p.slice(1)] = rest.map(decodeSegment).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (p.startsWith(':')) params[p.slice(1)] = decodeSegment(part);
    else if (p !== part) return undefined;
  }
  return parts.length === pattern.length ? params : undefined;
}

/** A path segment's %XX escapes decoded; `%ff` (not UTF-8) or `%zz` is the client's error, not a 500. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidArgumentError(
      `malformed percent-encoding in the path segment ${JSON.stringify(segment)}`,
    );
  }
}
