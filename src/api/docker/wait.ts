import { InvalidArgumentError } from '../../core/errors.ts';

import type { WaitCondition } from '../../engine/api/containers.ts';

export function parseWaitCondition(v: string | null): WaitCondition {
  if (v === null || v === '') return 'not-running';
  if (v === 'not-running' || v === 'next-exit' || v === 'removed') return v;
  throw new InvalidArgumentError(`invalid condition: "${v}" (want not-running, next-exit or removed)`);
}
