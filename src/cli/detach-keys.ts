import { InvalidArgumentError } from '../core/errors.ts';

/** docker's default detach keys: Ctrl-P Ctrl-Q leaves the container (or the VM) running. */
export const DEFAULT_DETACH_KEYS: readonly number[] = [0x10, 0x11];

/** A `--detach-keys` value (`ctrl-p,ctrl-q`, `ctrl-a,d`) as the bytes a terminal sends for it. */
export function parseDetachKeys(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const k = part.trim().toLowerCase();
    const ctrl = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (ctrl) out.push(ctrl[1]!.charCodeAt(0) & 0x1f);
    else if (/^[a-z]$/.test(k)) out.push(k.charCodeAt(0));
    else
      throw new InvalidArgumentError(`invalid --detach-keys "${text}": use e.g. ctrl-p,ctrl-q or ctrl-a,d`);
  }
  if (out.length === 0) throw new InvalidArgumentError('--detach-keys is empty');
  return out;
}

/**
 * Finds the detach sequence in what the user types: feeds bytes through, holding back a partial sequence (sent on
 * when it does not complete, as docker's escape proxy does); returns what to send and whether it completed.
 */
export class DetachMatcher {
  readonly #keys: readonly number[];
  #matched = 0;
  constructor(keys: readonly number[]) {
    this.#keys = keys;
  }
  feed(chunk: Uint8Array): { forward: Uint8Array; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.#keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === this.#keys.length) return { forward: Uint8Array.from(out), detach: true };
        continue;
      }
      // Not the sequence after all: the held-back bytes go through, then this one is looked at afresh.
      out.push(...this.#keys.slice(0, this.#matched));
      this.#matched = 0;
      if (b === this.#keys[0]) this.#matched = 1;
      else out.push(b);
    }
    return { forward: Uint8Array.from(out), detach: false };
  }
}
