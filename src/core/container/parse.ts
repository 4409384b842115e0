import { InvalidArgumentError } from '../errors.ts';
import { parseSize } from '../human.ts';
import type { MountRequest, RestartPolicy, Ulimit } from './config.ts';

/**
 * Parsers for the strings users type into `run`/`create` flags (and later send in API bodies). Pure; each rejects a
 * bad value with a message naming it, as docker does.
 */

/** `-e KEY=VALUE` as is; `-e KEY` takes KEY from the caller's environment, and is dropped when unset (docker). */
export function parseEnv(entries: string[], hostEnv: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    if (entry === '' || entry.startsWith('='))
      throw new InvalidArgumentError(`invalid environment variable: "${entry}"`);
    if (entry.includes('=')) out.push(entry);
    else if (hostEnv[entry] !== undefined) out.push(`${entry}=${hostEnv[entry]}`);
  }
  return out;
}

/** An --env-file's text: KEY=VALUE lines, `#` comments and blank lines skipped, bare KEY taken from the host. */
export function parseEnvFile(
  text: string,
  file: string,
  hostEnv: Record<string, string | undefined>,
): string[] {
  const entries: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/^\s+/, '').replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const name = line.split('=', 1)[0]!;
    if (/\s/.test(name) || name === '') {
      throw new InvalidArgumentError(
        `env file ${file} line ${i + 1}: variable '${name}' contains whitespaces`,
      );
    }
    entries.push(line);
  }
  return parseEnv(entries, hostEnv);
}

export function parseLabels(entries: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (key === '') throw new InvalidArgumentError(`invalid label: "${entry}": empty name`);
    labels[key] = eq < 0 ? '' : entry.slice(eq + 1);
  }
  return labels;
}

export function parseRestart(text: string | undefined): RestartPolicy {
  if (text === undefined || text === '' || text === 'no') return { name: 'no', maximumRetryCount: 0 };
  const [name, count, ...rest] = text.split(':');
  if (rest.length > 0) throw new InvalidArgumentError(`invalid restart policy format: "${text}"`);
  if (name === 'on-failure') {
    const n = count === undefined ? 0 : Number(count);
    if (!Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError(
        `invalid restart policy: maximum retry count must be a non-negative integer: "${text}"`,
      );
    }
    return { name, maximumRetryCount: n };
  }
  if (name === 'always' || name === 'unless-stopped') {
    if (count !== undefined) {
      throw new InvalidArgumentError(
        `invalid restart policy: maximum retry count can only be used with 'on-failure'`,
      );
    }
    return { name, maximumRetryCount: 0 };
  }
  throw new InvalidArgumentError(
    `invalid restart policy: unknown policy "${name}"; use no, always, on-failure or unless-stopped`,
  );
}

function requireAbsolute(path: string, what: string): void {
  if (!path.startsWith('/'))
    throw new InvalidArgumentError(`invalid ${what} "${path}": must be an absolute path`);
}

/**
 * `-v` in docker's short syntax: `/host:/ctr[:ro|rw]` (a bind), `name:/ctr[:ro]` (a named volume, created on demand),
 * `/ctr` (an anonymous volume).
 */
export function parseVolumeFlag(text: string): MountRequest {
  const parts = text.split(':');
  if (parts.length === 1) {
    requireAbsolute(parts[0]!, 'volume destination');
    return { type: 'volume', source: '', target: parts[0]!, readOnly: false };
  }
  if (parts.length > 3 || parts.some((p) => p === ''))
    throw new InvalidArgumentError(`invalid volume specification: "${text}"`);
  const [source, target, modeText] = parts as [string, string, string | undefined];
  requireAbsolute(target, 'volume destination');
  let readOnly = false;
  let propagation: string | undefined;
  for (const mode of modeText ? modeText.split(',') : []) {
    if (mode === 'ro') readOnly = true;
    else if (mode === 'rw') readOnly = false;
    else if (['z', 'Z', 'nocopy'].includes(mode)) continue;
    else if (['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'].includes(mode))
      propagation = mode;
    else throw new InvalidArgumentError(`invalid mode "${mode}" in volume specification "${text}"`);
  }
  if (source.startsWith('/')) {
    return {
      type: 'bind',
      source,
      target,
      readOnly,
      createHostPath: true,
      ...(propagation ? { propagation } : {}),
    };
  }
  if (source.startsWith('.'))
    throw new InvalidArgumentError(
      `invalid volume specification "${text}": a bind source must be an absolute path`,
    );
  return { type: 'volume', source, target, readOnly };
}

/** `--mount type=bind|volume|tmpfs,source=..,target=..,readonly,tmpfs-size=..,tmpfs-mode=..` */
export function parseMountFlag(text: string): MountRequest {
  const fields = new Map<string, string>();
  for (const field of text.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? 'true' : field.slice(eq + 1);
    if (key === '') throw new InvalidArgumentError(`invalid field '' in mount "${text}"`);
    fields.set(key, value);
  }
  const known = new Set([
    'type',
    'source',
    'src',
    'target',
    'destination',
    'dst',
    'readonly',
    'ro',
    'bind-propagation',
    'volume-nocopy',
    'tmpfs-size',
    'tmpfs-mode',
  ]);
  for (const key of fields.keys()) {
    if (!known.has(key)) throw new InvalidArgumentError(`unexpected key '${key}' in '${text}'`);
  }
  const type = fields.get('type') ?? 'volume';
  const source = fields.get('source') ?? fields.get('src') ?? '';
  const target = fields.get('target') ?? fields.get('destination') ?? fields.get('dst');
  if (!target) throw new InvalidArgumentError(`invalid mount "${text}": target is required`);
  requireAbsolute(target, 'mount target');
  const ro = fields.get('readonly') ?? fields.get('ro');
  const readOnly = ro === undefined ? false : parseBool(ro, `readonly in mount "${text}"`);
  switch (type) {
    case 'bind': {
      if (!source)
        throw new InvalidArgumentError(`invalid mount "${text}": source is required for a bind mount`);
      requireAbsolute(source, 'bind source');
      const propagation = fields.get('bind-propagation');
      return { type: 'bind', source, target, readOnly, ...(propagation ? { propagation } : {}) };
    }
    case 'volume':
      return { type: 'volume', source, target, readOnly };
    case 'tmpfs': {
      if (source) throw new InvalidArgumentError(`invalid mount "${text}": a tmpfs mount takes no source`);
      const sizeText = fields.get('tmpfs-size');
      const modeText = fields.get('tmpfs-mode');
      const size = sizeText === undefined ? undefined : parseSize(sizeText);
      if (sizeText !== undefined && size === undefined)
        throw new InvalidArgumentError(`invalid tmpfs-size "${sizeText}"`);
      const mode = modeText === undefined ? undefined : Number.parseInt(modeText, 8);
      if (mode !== undefined && (Number.isNaN(mode) || mode < 0 || mode > 0o7777)) {
        throw new InvalidArgumentError(`invalid tmpfs-mode "${modeText}": must be octal`);
      }
      return {
        type: 'tmpfs',
        target,
        ...(size !== undefined ? { size } : {}),
        ...(mode !== undefined ? { mode } : {}),
        ...(readOnly ? { options: ['ro'] } : {}),
      };
    }
    default:
      throw new InvalidArgumentError(`invalid mount type "${type}": use bind, volume or tmpfs`);
  }
}

/** `--tmpfs /run[:size=64m,mode=1777,noexec,...]` */
export function parseTmpfsFlag(text: string): MountRequest {
  const colon = text.indexOf(':');
  const target = colon < 0 ? text : text.slice(0, colon);
  requireAbsolute(target, 'tmpfs destination');
  const options: string[] = [];
  let size: number | undefined;
  let mode: number | undefined;
  for (const opt of colon < 0 ? [] : text.slice(colon + 1).split(',')) {
    if (opt.startsWith('size=')) {
      size = parseSize(opt.slice(5));
      if (size === undefined) throw new InvalidArgumentError(`invalid tmpfs size "${opt}" in "${text}"`);
    } else if (opt.startsWith('mode=')) {
      mode = Number.parseInt(opt.slice(5), 8);
      if (Number.isNaN(mode)) throw new InvalidArgumentError(`invalid tmpfs mode "${opt}" in "${text}"`);
    } else if (
      /^(ro|rw|noexec|exec|nosuid|suid|nodev|dev|sync|async|noatime|atime|nr_inodes=\d+|uid=\d+|gid=\d+)$/.test(
        opt,
      )
    ) {
      options.push(opt);
    } else if (opt !== '') {
      throw new InvalidArgumentError(`invalid tmpfs option "${opt}" in "${text}"`);
    }
  }
  return {
    type: 'tmpfs',
    target,
    ...(size !== undefined ? { size } : {}),
    ...(mode !== undefined ? { mode } : {}),
    ...(options.length ? { options } : {}),
  };
}

/** The rlimits docker's --ulimit knows, by their short names (RLIMIT_NOFILE is nofile). */
export const ULIMIT_NAMES: ReadonlySet<string> = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
  'as',
]);

/** `--ulimit nofile=1024[:2048]`: the syntax; the name and the limits are checked at create. */
export function parseUlimit(text: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text);
  if (!m) throw new InvalidArgumentError(`invalid ulimit argument: "${text}"; use name=soft[:hard]`);
  // The name and the range are checked at create (core/container/validate.ts), for API bodies too.
  const soft = Number(m[2]);
  return { name: m[1]!, soft, hard: m[3] === undefined ? soft : Number(m[3]) };
}

/** A size flag's syntax; the minimum (6MB) is checked at create, for API bodies too. */
export function parseMemory(text: string, flag: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined || bytes < 0)
    throw new InvalidArgumentError(`invalid value "${text}" for ${flag}: use a size like 64m or 1g`);
  return bytes;
}

/** `--memory-swap`: a size, or -1 for unlimited swap. */
export function parseMemorySwap(text: string): number {
  return text === '-1' ? -1 : parseMemory(text, '--memory-swap');
}

/** `--cpus 1.5` as nano CPUs, docker CLI's syntax; the range (0.01 to the host's CPUs) is checked at create. */
export function parseCpus(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || text.trim() === '') {
    throw new InvalidArgumentError(`invalid argument "${text}" for "--cpus" flag: must be a number`);
  }
  const nano = n * 1e9;
  if (Math.abs(nano - Math.round(nano)) > 1e-6)
    throw new InvalidArgumentError(`invalid argument "${text}" for "--cpus" flag: value is too precise`);
  return Math.round(nano);
}

export function parseInteger(text: string, flag: string, opts: { min?: number } = {}): number {
  const n = Number(text);
  if (Number.isInteger(n) && !Number.isSafeInteger(n))
    throw new InvalidArgumentError(`invalid argument "${text}" for "${flag}" flag: value out of range`);
  if (!Number.isInteger(n) || (opts.min !== undefined && n < opts.min)) {
    throw new InvalidArgumentError(
      `invalid argument "${text}" for "${flag}" flag: must be an integer${opts.min !== undefined ? ` >= ${opts.min}` : ''}`,
    );
  }
  return n;
}

/** `--cpuset-cpus 0-2,4` */
export function parseCpuset(text: string, hostCpus: number): string {
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const lo = m ? Number(m[1]) : Number.NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || lo > hi)
      throw new InvalidArgumentError(`invalid value "${text}" for --cpuset-cpus: use a list like 0-2,4`);
    if (hi >= hostCpus) {
      throw new InvalidArgumentError(
        `Requested CPUs are not available - requested ${text}, available: 0-${hostCpus - 1}`,
      );
    }
  }
  return text;
}

function parseBool(text: string, what: string): boolean {
  if (['1', 'true', 'yes', 'on'].includes(text.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(text.toLowerCase())) return false;
  throw new InvalidArgumentError(`invalid boolean "${text}" for ${what}`);
}
