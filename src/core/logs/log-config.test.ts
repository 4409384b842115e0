import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logDefaultsFrom } from './engine-defaults.ts';
import {
  attributesJson,
  DEFAULT_LOG_CONFIG,
  fromHumanSize,
  logAttributes,
  logSettings,
  mergeLogConfig,
  parseLogOpts,
  validateLogConfig,
} from './log-config.ts';

describe('log config', () => {
  it("refuses unknown drivers and options with docker's words", () => {
    assert.throws(
      () => validateLogConfig('syslogx', {}),
      /^InvalidArgumentError: logger: no log driver named 'syslogx' is registered$/,
    );
    assert.throws(
      () => validateLogConfig('json-file', { foo: '1' }),
      /unknown log opt 'foo' for json-file log driver/,
    );
    assert.throws(
      () => validateLogConfig('local', { foo: '1' }),
      /unknown log opt 'foo' for log driver local/,
    );
    assert.throws(
      () => validateLogConfig('k8s-file', { 'max-file': '2' }),
      /unknown log opt 'max-file' for k8s-file/,
    );
    assert.throws(
      () => parseLogOpts(['max-size']),
      /invalid key value pair format in logging opts: max-size/,
    );
    // docker's none driver takes any option.
    assert.deepEqual(validateLogConfig('none', { whatever: 'x' }), {
      type: 'none',
      config: { whatever: 'x' },
    });
  });

  it("checks values as docker's json-file and local drivers do", () => {
    assert.throws(() => validateLogConfig('json-file', { 'max-size': '10q' }), /invalid size: '10q'/);
    assert.throws(
      () => validateLogConfig('json-file', { 'max-size': '0' }),
      /max-size must be a positive number/,
    );
    assert.throws(
      () => validateLogConfig('json-file', { 'max-file': '0' }),
      /max-file cannot be less than 1/,
    );
    assert.throws(
      () => validateLogConfig('json-file', { 'max-file': 'x' }),
      /strconv.Atoi: parsing "x": invalid syntax/,
    );
    assert.throws(
      () => validateLogConfig('json-file', { compress: 'true', 'max-size': '1m' }),
      /compress cannot be true when max-file is less than 2 or max-size is not set/,
    );
    assert.throws(
      () => validateLogConfig('local', { 'max-file': '1' }),
      /compression cannot be enabled when max file count is 1/,
    );
    assert.throws(() => validateLogConfig('json-file', { tag: '{{.Nope}}' }), /invalid log opt tag/);
    assert.deepEqual(
      logSettings({ type: 'json-file', config: { 'max-size': '10m', 'max-file': '3', compress: '1' } }),
      {
        driver: 'json-file',
        maxSize: 10_000_000,
        maxFile: 3,
        compress: true,
      },
    );
    assert.deepEqual(logSettings({ type: 'local', config: {} }), {
      driver: 'local',
      maxSize: 20 * 1024 * 1024,
      maxFile: 5,
      compress: true,
    });
    assert.equal(logSettings({ type: 'json-file', config: {} }).maxSize, 0);
  });

  it("sizes are go-units' decimal human sizes", () => {
    assert.equal(fromHumanSize('10m'), 10_000_000);
    assert.equal(fromHumanSize('1.5GB'), 1_500_000_000);
    assert.equal(fromHumanSize('20 MiB'), 20_000_000);
    assert.equal(fromHumanSize('512'), 512);
    assert.throws(() => fromHumanSize('-1m'), /invalid size/);
  });

  it("merges the engine default as dockerd does: its options only for its own driver, the container's first", () => {
    assert.deepEqual(mergeLogConfig(undefined, DEFAULT_LOG_CONFIG), DEFAULT_LOG_CONFIG);
    assert.deepEqual(mergeLogConfig({ type: '', config: { 'max-file': '2' } }, DEFAULT_LOG_CONFIG), {
      type: 'json-file',
      config: { 'max-size': '20m', 'max-file': '2' },
    });
    assert.deepEqual(mergeLogConfig({ type: 'local', config: {} }, DEFAULT_LOG_CONFIG), {
      type: 'local',
      config: {},
    });
  });

  it("reads engine.json's log-driver and log-opts strictly", () => {
    assert.deepEqual(logDefaultsFrom({}, 'e.json'), DEFAULT_LOG_CONFIG);
    assert.deepEqual(logDefaultsFrom({ 'log-driver': 'local' }, 'e.json'), { type: 'local', config: {} });
    assert.deepEqual(logDefaultsFrom({ 'log-opts': { 'max-size': '5m' } }, 'e.json'), {
      type: 'json-file',
      config: { 'max-size': '5m' },
    });
    assert.throws(
      () => logDefaultsFrom({ 'log-driver': 'nope' }, 'e.json'),
      /e.json: failed to set log opts: logger: no log driver named 'nope'/,
    );
    assert.throws(
      () => logDefaultsFrom({ 'log-opts': { 'max-size': 5 } }, 'e.json'),
      /log-opts.max-size: expected a string/,
    );
  });

  it("attributes: named and matched labels and env, a tag template, as Go's json.Marshal writes them", () => {
    const subject = {
      id: 'abcdef0123456789'.repeat(4),
      name: 'web',
      imageId: 'sha256:1234567890abcdef',
      imageName: 'busybox:1',
      labels: { team: 'a<b', tier: 'front', other: 'x' },
      env: ['REGION=eu', 'SECRET=s', 'BROKEN'],
    };
    const attrs = logAttributes(
      {
        type: 'json-file',
        config: { labels: 'team,missing', 'labels-regex': '^ti', env: 'REGION', tag: '{{.Name}}/{{.ID}}' },
      },
      subject,
    );
    assert.deepEqual(attrs, { team: 'a<b', tier: 'front', REGION: 'eu', tag: 'web/abcdef012345' });
    assert.equal(
      attributesJson(attrs),
      '{"REGION":"eu","tag":"web/abcdef012345","team":"a\\u003cb","tier":"front"}',
    );
  });
});
