import { InvalidArgumentError } from '../errors.ts';
import { parseSize } from '../human.ts';
import { DEFAULT_POLICY, type LedgerPolicy } from './types.ts';

/**
 * The engine config, `<root>/engine.json`: today the ledger's policy. Strict: an unknown key, a wrong type or a bad
 * size is refused with the key named, so a typo never silently falls back to a default. Absent keys take defaults.
 *
 *   {"hostReserve": {"cpus": 1, "memory": "1G", "disk": "10G"}, "overcommit": {"cpu": 1, "memory": 1}}
 */
export function parseEngineConfig(text: string, source = 'engine.json'): LedgerPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${source}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const top = objectAt(doc, source);
  // The log default's keys are read by core/logs/engine-defaults.ts.
  refuseUnknown(top, ['hostReserve', 'overcommit', 'log-driver', 'log-opts'], source);
  const reserve = top.hostReserve === undefined ? {} : objectAt(top.hostReserve, `${source}: hostReserve`);
  refuseUnknown(reserve, ['cpus', 'memory', 'disk'], `${source}: hostReserve`);
  const over = top.overcommit === undefined ? {} : objectAt(top.overcommit, `${source}: overcommit`);
  refuseUnknown(over, ['cpu', 'memory'], `${source}: overcommit`);
  const d = DEFAULT_POLICY;
  return {
    hostReserve: {
      cpus:
        reserve.cpus === undefined
          ? d.hostReserve.cpus
          : wholeNumber(reserve.cpus, `${source}: hostReserve.cpus`),
      memoryBytes:
        reserve.memory === undefined
          ? d.hostReserve.memoryBytes
          : sizeValue(reserve.memory, `${source}: hostReserve.memory`),
      diskBytes:
        reserve.disk === undefined
          ? d.hostReserve.diskBytes
          : sizeValue(reserve.disk, `${source}: hostReserve.disk`),
    },
    overcommit: {
      cpu: over.cpu === undefined ? d.overcommit.cpu : ratio(over.cpu, `${source}: overcommit.cpu`),
      memory:
        over.memory === undefined ? d.overcommit.memory : ratio(over.memory, `${source}: overcommit.memory`),
    },
  };
}

export function objectAt(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${where}: expected an object, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function refuseUnknown(obj: Record<string, unknown>, known: string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(`${where}: unknown key "${key}" (known: ${known.join(', ')})`);
    }
  }
}

function wholeNumber(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(
      `${where}: must be a whole number of 0 or more, not ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A byte count, as a number or a size string with K/M/G/T (binary, as docker's). */
export function sizeValue(value: unknown, where: string): number {
  if (typeof value === 'number') return wholeNumber(value, where);
  const bytes = typeof value === 'string' ? parseSize(value) : undefined;
  if (bytes === undefined) {
    throw new InvalidArgumentError(
      `${where}: invalid size ${JSON.stringify(value)}: use bytes or a size like 512M, 1G`,
    );
  }
  return bytes;
}

/** An overcommit ratio: 1 (no overcommit) or more, fractions allowed. */
export function ratio(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 64) {
    throw new InvalidArgumentError(
      `${where}: an overcommit ratio is a number from 1 (no overcommit) to 64, not ${JSON.stringify(value)}`,
    );
  }
  return value;
}
