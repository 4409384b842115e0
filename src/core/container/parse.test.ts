import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseCpus,
  parseCpuset,
  parseEnv,
  parseEnvFile,
  parseInteger,
  parseMemory,
  parseMountFlag,
  parseRestart,
  parseTmpfsFlag,
  parseUlimit,
  parseVolumeFlag,
} from './parse.ts';

describe('run flag parsers', () => {
  it('takes bare -e names from the host environment and drops unset ones', () => {
    assert.deepEqual(parseEnv(['A=1', 'HOME', 'NOPE'], { HOME: '/root' }), ['A=1', 'HOME=/root']);
    assert.throws(() => parseEnv(['=x'], {}), /invalid environment variable: "=x"/);
  });

  it('reads env files with comments and names the bad line', () => {
    assert.deepEqual(parseEnvFile('# c\n\nA=1\n  B=2\n', 'f', {}), ['A=1', 'B=2']);
    assert.throws(() => parseEnvFile('BAD NAME=1', 'x.env', {}), /x.env line 1/);
  });

  it('parses restart policies as docker does', () => {
    assert.deepEqual(parseRestart('on-failure:3'), { name: 'on-failure', maximumRetryCount: 3 });
    assert.deepEqual(parseRestart(undefined), { name: 'no', maximumRetryCount: 0 });
    assert.throws(() => parseRestart('always:2'), /only be used with 'on-failure'/);
    assert.throws(() => parseRestart('sometimes'), /unknown policy "sometimes"/);
  });

  it('tells binds, named and anonymous volumes apart in -v', () => {
    assert.deepEqual(parseVolumeFlag('/src:/dst:ro'), {
      type: 'bind',
      source: '/src',
      target: '/dst',
      readOnly: true,
      createHostPath: true,
    });
    assert.deepEqual(parseVolumeFlag('data:/var/data'), {
      type: 'volume',
      source: 'data',
      target: '/var/data',
      readOnly: false,
    });
    assert.deepEqual(parseVolumeFlag('/cache'), {
      type: 'volume',
      source: '',
      target: '/cache',
      readOnly: false,
    });
    assert.throws(() => parseVolumeFlag('data:relative'), /must be an absolute path/);
    assert.throws(() => parseVolumeFlag('/a:/b:bogus'), /invalid mode "bogus"/);
  });

  it('parses --mount long syntax and rejects unknown keys', () => {
    assert.deepEqual(parseMountFlag('type=bind,src=/a,dst=/b,readonly'), {
      type: 'bind',
      source: '/a',
      target: '/b',
      readOnly: true,
    });
    assert.deepEqual(parseMountFlag('type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1777'), {
      type: 'tmpfs',
      target: '/t',
      size: 1048576,
      mode: 0o1777,
    });
    assert.throws(() => parseMountFlag('type=bind,target=/b'), /source is required/);
    assert.throws(() => parseMountFlag('type=volume,target=/b,colour=red'), /unexpected key 'colour'/);
  });

  it('parses --tmpfs options', () => {
    assert.deepEqual(parseTmpfsFlag('/run:size=64m,noexec'), {
      type: 'tmpfs',
      target: '/run',
      size: 64 * 1024 * 1024,
      options: ['noexec'],
    });
    assert.throws(() => parseTmpfsFlag('/run:weird'), /invalid tmpfs option "weird"/);
  });

  it('parses ulimits, sizes, cpus and cpusets with the bad value named', () => {
    assert.deepEqual(parseUlimit('nofile=1024:2048'), { name: 'nofile', soft: 1024, hard: 2048 });
    assert.throws(() => parseUlimit('nofile=x'), /invalid ulimit argument: "nofile=x"/);
    assert.equal(parseMemory('64m', '--memory'), 64 * 1024 * 1024);
    assert.throws(() => parseMemory('lots', '--memory'), /invalid value "lots" for --memory/);
    assert.equal(parseCpus('0.5'), 500_000_000);
    assert.equal(parseCpus('-1'), -1_000_000_000, "the range is create's to refuse, in docker's words");
    assert.throws(() => parseCpus('0.0000000001'), /"--cpus" flag: value is too precise/);
    assert.throws(
      () => parseInteger('99999999999999999999', '--pids-limit'),
      /invalid argument "99999999999999999999" for "--pids-limit" flag: value out of range/,
    );
    assert.equal(parseCpuset('0-1', 2), '0-1');
    assert.throws(() => parseCpuset('0-4', 2), /available: 0-1/);
  });
});
