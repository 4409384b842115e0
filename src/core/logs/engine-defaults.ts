import { InvalidArgumentError } from '../errors.ts';
import { DEFAULT_LOG_CONFIG, type LogConfig, validateLogConfig } from './log-config.ts';

/**
 * The engine-wide log default from engine.json's `"log-driver"` and `"log-opts"`, dockerd's daemon.json keys:
 * `{"log-driver": "local", "log-opts": {"max-size": "50m"}}`. Neither given: DEFAULT_LOG_CONFIG (json-file, 20m x 5).
 * Only the driver given: its options are the ones given, or for json-file hyperbox's bounded default. Strict, as the
 * rest of engine.json: a bad driver or option is refused with the file named.
 */
export function logDefaultsFrom(doc: Record<string, unknown>, source: string): LogConfig {
  const driver = doc['log-driver'];
  const opts = doc['log-opts'];
  if (driver === undefined && opts === undefined) return DEFAULT_LOG_CONFIG;
  if (driver !== undefined && typeof driver !== 'string') {
    throw new InvalidArgumentError(`${source}: log-driver: expected a string, got ${JSON.stringify(driver)}`);
  }
  const type = driver ?? DEFAULT_LOG_CONFIG.type;
  let config: Record<string, string>;
  if (opts === undefined) {
    config = type === DEFAULT_LOG_CONFIG.type ? DEFAULT_LOG_CONFIG.config : {};
  } else {
    if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
      throw new InvalidArgumentError(`${source}: log-opts: expected an object, got ${JSON.stringify(opts)}`);
    }
    config = {};
    for (const [k, v] of Object.entries(opts)) {
      if (typeof v !== 'string') {
        throw new InvalidArgumentError(
          `${source}: log-opts.${k}: expected a string, got ${JSON.stringify(v)}`,
        );
      }
      config[k] = v;
    }
  }
  try {
    return validateLogConfig(type, config);
  } catch (err) {
    throw new InvalidArgumentError(`${source}: failed to set log opts: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
