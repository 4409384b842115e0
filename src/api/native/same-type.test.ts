import assert from 'node:assert/strict';
import { it } from 'node:test';
import { z } from 'zod';
import type { Expect, Same } from './same-type.ts';

// The assertions are `tsc`'s (npm run typecheck): each @ts-expect-error line must stay an error.
interface Stop {
  readonly timeSeconds?: number;
  signal: string;
}
const stop = z.strictObject({ timeSeconds: z.number().optional(), signal: z.string() });
export type Checks = [
  Expect<Same<z.output<typeof stop>, Stop>>,
  Expect<Same<{ a: string } & { b?: number }, { a: string; b?: number }>>,
  Expect<Same<{ list: readonly { x: number }[] }, { list: { x: number }[] }>>,
  // @ts-expect-error a field retyped
  Expect<Same<{ timeSeconds?: string; signal: string }, Stop>>,
  // @ts-expect-error a field made optional
  Expect<Same<{ timeSeconds?: number; signal?: string }, Stop>>,
  // @ts-expect-error an optional field dropped
  Expect<Same<{ signal: string }, Stop>>,
  // @ts-expect-error a field added
  Expect<Same<{ timeSeconds?: number; signal: string; force: boolean }, Stop>>,
  // @ts-expect-error a nested field retyped
  Expect<Same<{ o: { tty: boolean } }, { o: { tty: string } }>>,
];

it('schema/type agreement is checked by tsc (this file holds the cases)', () => {
  assert.deepEqual(stop.parse({ signal: 'TERM' }), { signal: 'TERM' });
});
