import { InvalidArgumentError } from '../errors.ts';

/**
 * A container's log driver and its options, as docker's HostConfig.LogConfig: `{Type, Config}` with string values.
 * Drivers:
 * - `json-file`: docker's on-disk format, one JSON object a record, rotated by max-size / max-file (compress);
 * - `local`: a compact binary format of hyperbox's own, with docker's defaults for the driver (20 MiB x 5, compressed);
 * - `k8s-file`: conmon writes the file itself (podman's default); max-size truncates it, as conmon does;
 * - `none`: nothing is kept; `logs` fails.
 * The engine fills the engine-wide default in at create (docker's mergeAndVerifyLogConfig), so a stored container
 * always names its driver and the options that apply.
 */
export const LOG_DRIVERS = ['json-file', 'local', 'k8s-file', 'none'] as const;
export type LogDriver = (typeof LOG_DRIVERS)[number];

export interface LogConfig {
  type: LogDriver;
  config: Record<string, string>;
}

/** What a create request may say: no type means the engine's default. */
export interface LogConfigRequest {
  type?: string;
  config: Record<string, string>;
}

/** hyperbox's engine-wide default: json-file, bounded (docker's own default keeps growing forever). */
export const DEFAULT_LOG_CONFIG: LogConfig = {
  type: 'json-file',
  config: { 'max-size': '20m', 'max-file': '5' },
};

/** Options every driver that keeps a file understands: extra attributes on each record (docker's loginfo). */
const ATTRIBUTE_OPTS = ['labels', 'labels-regex', 'env', 'env-regex', 'tag'];
const DRIVER_OPTS: Record<LogDriver, string[]> = {
  'json-file': ['max-size', 'max-file', 'compress', ...ATTRIBUTE_OPTS],
  local: ['max-size', 'max-file', 'compress', ...ATTRIBUTE_OPTS],
  'k8s-file': ['max-size'],
  none: [],
};

/** The resolved settings a driver runs with. `maxSize` 0: the file is never rotated (or truncated). */
export interface LogSettings {
  driver: LogDriver;
  maxSize: number;
  maxFile: number;
  compress: boolean;
}

/** The docker local driver's defaults (daemon/logger/local): 20 MiB files, 5 of them, rotated ones compressed. */
const LOCAL_DEFAULTS = { maxSize: 20 * 1024 * 1024, maxFile: 5, compress: true };

/**
 * The container's log config: the engine default's driver when none is asked for, with the default's options under
 * the container's own when the driver is the default's (as dockerd merges daemon.json's log-opts). Validated.
 */
export function mergeLogConfig(req: LogConfigRequest | undefined, engineDefault: LogConfig): LogConfig {
  const type = req?.type || engineDefault.type;
  const config = { ...(type === engineDefault.type ? engineDefault.config : {}), ...(req?.config ?? {}) };
  return validateLogConfig(type, config);
}

/** Refuses an unknown driver or option, or a bad value, with docker's words. */
export function validateLogConfig(type: string, config: Record<string, string>): LogConfig {
  if (!(LOG_DRIVERS as readonly string[]).includes(type)) {
    throw new InvalidArgumentError(`logger: no log driver named '${type}' is registered`);
  }
  const driver = type as LogDriver;
  // docker's none driver takes (and ignores) any option.
  if (driver !== 'none') {
    for (const key of Object.keys(config)) {
      if (!DRIVER_OPTS[driver].includes(key)) {
        throw new InvalidArgumentError(
          driver === 'local'
            ? `unknown log opt '${key}' for log driver local`
            : `unknown log opt '${key}' for ${driver} log driver`,
        );
      }
    }
    for (const key of ['labels-regex', 'env-regex']) {
      const re = config[key];
      if (re === undefined) continue;
      try {
        new RegExp(re);
      } catch (err) {
        throw new InvalidArgumentError(`invalid log opt ${key} '${re}': ${(err as Error).message}`);
      }
    }
    if (config.tag !== undefined) checkTagTemplate(config.tag);
  }
  const result = { type: driver, config: { ...config } };
  logSettings(result);
  return result;
}

/** The settings of a validated config, with the driver's defaults; throws docker's words for a bad value. */
export function logSettings(cfg: LogConfig): LogSettings {
  const c = cfg.config;
  switch (cfg.type) {
    case 'json-file': {
      // json-file keeps one file that grows forever unless max-size says otherwise (hyperbox's default does).
      let maxSize = 0;
      if (c['max-size'] !== undefined) {
        maxSize = fromHumanSize(c['max-size']);
        if (maxSize <= 0) throw new InvalidArgumentError('max-size must be a positive number');
      }
      let maxFile = 1;
      if (c['max-file'] !== undefined) {
        maxFile = atoi(c['max-file']);
        if (maxFile < 1) throw new InvalidArgumentError('max-file cannot be less than 1');
      }
      const compress = c.compress === undefined ? false : parseBool(c.compress);
      if (compress && (maxFile === 1 || maxSize === 0)) {
        throw new InvalidArgumentError(
          'compress cannot be true when max-file is less than 2 or max-size is not set',
        );
      }
      return { driver: 'json-file', maxSize, maxFile, compress };
    }
    case 'local': {
      // docker's local driver names the option and value around the parser's own words.
      const value = <T>(key: string, parse: (v: string) => T, fallback: T, words: string): T => {
        const v = c[key];
        if (v === undefined) return fallback;
        try {
          return parse(v);
        } catch (err) {
          throw new InvalidArgumentError(`${words.replace('%s', v)}: ${(err as Error).message}`);
        }
      };
      const d = LOCAL_DEFAULTS;
      const maxSize = value('max-size', fromHumanSize, d.maxSize, 'invalid value for max-size: %s');
      const maxFile = value('max-file', atoi, d.maxFile, 'invalid value for max-file: %s');
      const compress = value('compress', parseBool, d.compress, 'invalid boolean value for compress');
      if (maxSize < 0) throw new InvalidArgumentError('max-size must not be negative');
      if (maxFile < 0) throw new InvalidArgumentError('max-file must not be negative');
      if (compress && maxFile <= 1) {
        throw new InvalidArgumentError('compression cannot be enabled when max file count is 1');
      }
      return { driver: 'local', maxSize, maxFile: Math.max(maxFile, 1), compress };
    }
    case 'k8s-file': {
      const maxSize = c['max-size'] === undefined ? 0 : fromHumanSize(c['max-size']);
      if (maxSize < 0) throw new InvalidArgumentError('max-size must not be negative');
      return { driver: 'k8s-file', maxSize, maxFile: 1, compress: false };
    }
    case 'none':
      return { driver: 'none', maxSize: 0, maxFile: 1, compress: false };
  }
}

/** `--log-opt k=v` values (repeatable) as a map; docker's error for one without `=`. */
export function parseLogOpts(opts: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const opt of opts) {
    const eq = opt.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`invalid key value pair format in logging opts: ${opt}`);
    out[opt.slice(0, eq)] = opt.slice(eq + 1);
  }
  return out;
}

/**
 * docker's units.FromHumanSize: decimal units (k = 1000), an optional `i` and `b`, case-insensitive: "10m", "1.5GB",
 * "20 MB". Errors as go-units words them.
 */
export function fromHumanSize(text: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i.exec(text);
  if (!m || Number.isNaN(Number(m[1]))) throw new InvalidArgumentError(`invalid size: '${text}'`);
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.trunc(Number(m[1]) * scale);
}

function atoi(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) {
    throw new InvalidArgumentError(`strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  }
  return Number(text);
}

/** Go's strconv.ParseBool. */
function parseBool(text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new InvalidArgumentError(`strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`);
}

/** The container facts a tag template and the attribute options draw on. */
export interface LogSubject {
  id: string;
  name: string;
  imageId: string;
  imageName: string;
  labels: Record<string, string>;
  env: readonly string[];
}

const TAG_FIELDS: Record<string, (s: LogSubject) => string> = {
  ID: (s) => s.id.slice(0, 12),
  FullID: (s) => s.id,
  Name: (s) => s.name,
  ImageID: (s) => s.imageId.replace(/^sha256:/, '').slice(0, 12),
  ImageFullID: (s) => s.imageId,
  ImageName: (s) => s.imageName,
  DaemonName: () => 'hyperbox',
};

function checkTagTemplate(tag: string): void {
  for (const m of tag.matchAll(/\{\{(.*?)\}\}/g)) {
    const field = /^\s*\.(\w+)\s*$/.exec(m[1]!)?.[1];
    if (!field || !(field in TAG_FIELDS)) {
      throw new InvalidArgumentError(
        `invalid log opt tag '${tag}': ${m[0]} is not one of ${Object.keys(TAG_FIELDS)
          .map((f) => `{{.${f}}}`)
          .join(', ')}`,
      );
    }
  }
}

/**
 * The attributes docker's drivers attach to every record (logger.Info.ExtraAttributes, plus `tag` when asked for):
 * the labels and environment variables the options name or match. Empty when none applies.
 */
export function logAttributes(cfg: LogConfig, s: LogSubject): Record<string, string> {
  const c = cfg.config;
  const out: Record<string, string> = {};
  for (const key of c.labels ? c.labels.split(',') : []) {
    if (s.labels[key] !== undefined) out[key] = s.labels[key];
  }
  if (c['labels-regex']) {
    const re = new RegExp(c['labels-regex']);
    for (const [k, v] of Object.entries(s.labels)) if (re.test(k)) out[k] = v;
  }
  const env = new Map<string, string>();
  for (const e of s.env) {
    const eq = e.indexOf('=');
    if (eq > 0) env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  for (const key of c.env ? c.env.split(',') : []) {
    const v = env.get(key);
    if (v !== undefined) out[key] = v;
  }
  if (c['env-regex']) {
    const re = new RegExp(c['env-regex']);
    for (const [k, v] of env) if (re.test(k)) out[k] = v;
  }
  if (c.tag) {
    out.tag = c.tag.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, field: string) => TAG_FIELDS[field]!(s));
  }
  return out;
}

/** Attributes as Go's json.Marshal writes a map: keys sorted, `<`, `>`, `&`, U+2028/9 escaped. */
export function attributesJson(attrs: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(attrs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify(sorted).replace(
    /[<>&\u2028\u2029]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
