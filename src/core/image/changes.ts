import { InvalidArgumentError } from '../errors.ts';
import type { ImageConfig } from './oci.ts';

/**
 * `--change` instructions (docker import / commit): a Dockerfile instruction applied to an image config.
 * Supported: CMD, ENTRYPOINT (JSON or shell form), ENV, LABEL, EXPOSE, WORKDIR, USER, STOPSIGNAL, VOLUME.
 * Variables ($VAR) are not expanded: docker import does not expand them either outside a build.
 */
const SUPPORTED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

function bad(change: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid --change ${JSON.stringify(change)}: ${why}`);
}

/** Returns a new config with every change applied in order; the input is not modified. */
export function applyChanges(base: ImageConfig, changes: readonly string[]): ImageConfig {
  let config: ImageConfig = structuredClone(base);
  for (const change of changes) config = applyChange(config, change);
  return config;
}

function applyChange(config: ImageConfig, change: string): ImageConfig {
  const m = /^\s*([A-Za-z]+)(?:\s+([\s\S]*?))?\s*$/.exec(change);
  if (!m) throw bad(change, 'expected INSTRUCTION ARGUMENTS');
  const instruction = m[1]!.toUpperCase();
  const args = m[2] ?? '';
  if (!SUPPORTED.includes(instruction)) {
    throw bad(change, `${instruction} is not a valid change command (supported: ${SUPPORTED.join(', ')})`);
  }
  if (args === '') throw bad(change, `${instruction} requires at least one argument`);
  switch (instruction) {
    case 'CMD':
      return { ...config, Cmd: commandForm(change, args) };
    case 'ENTRYPOINT':
      return { ...config, Entrypoint: commandForm(change, args) };
    case 'ENV':
      return { ...config, Env: mergeEnv(config.Env ?? [], keyValues(change, args, true)) };
    case 'LABEL':
      return {
        ...config,
        Labels: { ...config.Labels, ...Object.fromEntries(keyValues(change, args, false)) },
      };
    case 'EXPOSE': {
      const ports = { ...config.ExposedPorts };
      for (const word of words(change, args)) for (const p of exposedPorts(change, word)) ports[p] = {};
      return { ...config, ExposedPorts: ports };
    }
    case 'WORKDIR': {
      const dir = single(change, args);
      const joined = dir.startsWith('/') ? dir : `${config.WorkingDir ?? '/'}/${dir}`;
      return { ...config, WorkingDir: joined.replace(/\/+/g, '/') };
    }
    case 'USER':
      return { ...config, User: single(change, args) };
    case 'STOPSIGNAL': {
      const sig = single(change, args);
      if (!/^(SIG)?[A-Z][A-Z0-9]*([+-]\d+)?$/.test(sig) && !/^[1-9]\d?$/.test(sig)) {
        throw bad(change, `invalid signal ${JSON.stringify(sig)}`);
      }
      return { ...config, StopSignal: sig };
    }
    default: {
      // VOLUME
      const list = args.trimStart().startsWith('[') ? jsonArray(change, args) : words(change, args);
      const volumes = { ...config.Volumes };
      for (const v of list) {
        if (v === '') throw bad(change, 'VOLUME paths must not be empty');
        volumes[v] = {};
      }
      return { ...config, Volumes: volumes };
    }
  }
}

/** JSON (exec) form when the arguments are a JSON array of strings, otherwise shell form, as in a Dockerfile. */
function commandForm(change: string, args: string): string[] {
  if (args.trimStart().startsWith('[')) {
    try {
      return jsonArray(change, args);
    } catch {
      // Docker falls back to the shell form when the JSON does not parse.
    }
  }
  return ['/bin/sh', '-c', args];
}

function jsonArray(change: string, args: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw bad(change, 'not a valid JSON array');
  }
  if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) {
    throw bad(change, 'the JSON form must be an array of strings');
  }
  return parsed as string[];
}

function single(change: string, args: string): string {
  const w = words(change, args);
  if (w.length !== 1) throw bad(change, `expected exactly one argument, got ${w.length}`);
  return w[0]!;
}

/**
 * `KEY=VALUE KEY2="two words"`; for ENV also the legacy `KEY value with spaces` form (one pair per instruction).
 */
function keyValues(change: string, args: string, legacyForm: boolean): Array<[string, string]> {
  const first = /^\s*([^\s=]+)(\s+|$)/.exec(args);
  if (
    first &&
    !args
      .trimStart()
      .slice(0, first[1]!.length + 1)
      .includes('=')
  ) {
    if (!legacyForm) throw bad(change, 'expected KEY=VALUE pairs');
    const rest = args
      .trimStart()
      .slice(first[0].length - first[2]!.length)
      .trim();
    if (rest === '') throw bad(change, `ENV ${first[1]} needs a value (ENV KEY=VALUE or ENV KEY VALUE)`);
    return [[first[1]!, rest]];
  }
  return words(change, args).map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw bad(change, `expected KEY=VALUE, got ${JSON.stringify(w)}`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function mergeEnv(env: string[], pairs: Array<[string, string]>): string[] {
  const out = [...env];
  for (const [key, value] of pairs) {
    const i = out.findIndex((e) => e.slice(0, e.indexOf('=')) === key);
    if (i === -1) out.push(`${key}=${value}`);
    else out[i] = `${key}=${value}`;
  }
  return out;
}

/** `80`, `80/udp`, `8000-8002/tcp` → `80/tcp` ... */
function exposedPorts(change: string, word: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
  if (!m) throw bad(change, `invalid port ${JSON.stringify(word)} (want PORT[-PORT][/tcp|udp|sctp])`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535 || hi < lo) throw bad(change, `invalid port range ${JSON.stringify(word)}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

/** Splits on unquoted white space; "double" quotes allow \" and \\ escapes, 'single' quotes are literal. */
export function words(change: string, s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end === -1) throw bad(change, 'unterminated single quote');
      cur += s.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && (s[j + 1] === '"' || s[j + 1] === '\\')) j++;
        cur += s[j];
      }
      if (j >= s.length) throw bad(change, 'unterminated double quote');
      i = j;
    } else {
      cur += c;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
