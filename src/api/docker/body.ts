import { InvalidArgumentError } from '../../core/errors.ts';

/**
 * Typed reads of a docker request body, each naming the field it refuses. docker's clients send every field of a
 * struct, zero values included, so absent, null and the zero value all mean "not set" here; unknown fields are
 * ignored, as dockerd does (the native API, not this one, rejects them).
 */
export class Body {
  readonly #obj: Record<string, unknown>;
  readonly #where: string;
  constructor(obj: Record<string, unknown>, where = '') {
    this.#obj = obj;
    this.#where = where;
  }

  #name(key: string): string {
    return this.#where ? `${this.#where}.${key}` : key;
  }

  #value(key: string): unknown {
    const v = this.#obj[key];
    return v === null ? undefined : v;
  }

  str(key: string): string | undefined {
    const v = this.#value(key);
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw this.#bad(key, 'a string', v);
    return v;
  }

  bool(key: string): boolean {
    const v = this.#value(key);
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw this.#bad(key, 'a boolean', v);
    return v;
  }

  /** A number, undefined when absent or 0 (docker's "unset"). */
  num(key: string): number | undefined {
    const v = this.#value(key);
    if (v === undefined || v === 0) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.#bad(key, 'a number', v);
    return v;
  }

  /** A number where 0 is a real value (StopTimeout, ulimits): undefined only when absent. */
  numOrZero(key: string): number | undefined {
    const v = this.#value(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.#bad(key, 'a number', v);
    return v;
  }

  /** A list of strings; docker also accepts a lone string for Cmd/Entrypoint. */
  strings(key: string, opts: { loneString?: boolean } = {}): string[] | undefined {
    const v = this.#value(key);
    if (v === undefined) return undefined;
    if (opts.loneString && typeof v === 'string') return [v];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      throw this.#bad(key, 'a list of strings', v);
    return v;
  }

  /** A list of numbers (ConsoleSize: [height, width]). */
  numbers(key: string): number[] | undefined {
    const v = this.#value(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number'))
      throw this.#bad(key, 'a list of numbers', v);
    return v;
  }

  /** A string -> string map (Labels, Tmpfs). */
  map(key: string): Record<string, string> {
    const v = this.#value(key);
    if (v === undefined) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw this.#bad(key, 'an object', v);
    for (const [k, x] of Object.entries(v as object)) {
      if (typeof x !== 'string') throw this.#bad(`${key}.${k}`, 'a string', x);
    }
    return v as Record<string, string>;
  }

  obj(key: string): Body {
    const v = this.#value(key);
    if (v === undefined) return new Body({}, this.#name(key));
    if (typeof v !== 'object' || Array.isArray(v)) throw this.#bad(key, 'an object', v);
    return new Body(v as Record<string, unknown>, this.#name(key));
  }

  /** A list of objects (Mounts, Ulimits). */
  list(key: string): Body[] {
    const v = this.#value(key);
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw this.#bad(key, 'a list', v);
    return v.map((x, i) => {
      if (typeof x !== 'object' || x === null || Array.isArray(x))
        throw this.#bad(`${key}[${i}]`, 'an object', x);
      return new Body(x as Record<string, unknown>, `${this.#name(key)}[${i}]`);
    });
  }

  keys(): string[] {
    return Object.keys(this.#obj);
  }

  #bad(key: string, want: string, got: unknown): InvalidArgumentError {
    return new InvalidArgumentError(`${this.#name(key)} must be ${want}, not ${JSON.stringify(got)}`);
  }
}
