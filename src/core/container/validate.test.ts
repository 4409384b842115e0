import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../errors.ts';
import type { ContainerConfig } from './config.ts';
import { minimalConfig } from './config-example.ts';
import { MAX_PIDS_LIMIT, validateContainerConfig } from './validate.ts';

const base: Omit<ContainerConfig, 'imageId'> = {
  ...minimalConfig(),
  networkMode: 'bridge',
  networks: [{ network: 'bridge' }],
};

/** Validates `base` with `change` applied, on a 2-CPU host. */
function check(change: Partial<Omit<ContainerConfig, 'imageId'>>): void {
  validateContainerConfig({ ...base, ...change }, { hostCpus: 2 });
}

/** Refused as the client's mistake (exit 125, HTTP 400) with exactly `message`. */
function refused(change: Partial<Omit<ContainerConfig, 'imageId'>>, message: string): void {
  assert.throws(
    () => check(change),
    (err: unknown) => err instanceof InvalidArgumentError && err.message === message,
    `expected: ${message}`,
  );
}

describe('validateContainerConfig: what docker refuses at create, in its words', () => {
  it('accepts an ordinary configuration', () => {
    check({});
    check({
      workingDir: '/srv/app',
      hostname: 'web-1.example',
      dns: ['1.1.1.1', '2606:4700::1111'],
      extraHosts: ['db:10.0.0.5', 'v6:::1'],
      capAdd: ['net_admin', 'CAP_SYS_TIME', 'ALL'],
      capDrop: ['chown'],
      resources: {
        memory: 6 * 1024 * 1024,
        memorySwap: -1,
        nanoCpus: 2e9,
        cpuShares: 512,
        cpusetCpus: '0-1',
        pidsLimit: MAX_PIDS_LIMIT,
      },
      ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
      networks: [{ network: 'app', ip: '10.1.0.9', aliases: ['www'] }],
    });
  });

  it('memory: a limit under 6MB, negative ones too (dockerd)', () => {
    refused({ resources: { memory: 1024 * 1024 } }, 'Minimum memory limit allowed is 6MB');
    refused({ resources: { memory: -5 } }, 'Minimum memory limit allowed is 6MB');
    refused({ resources: { memory: 1.5 } }, 'invalid memory 1.5: must be a whole number within ±2^53');
    refused(
      { resources: { memory: 64 << 20, memorySwap: 32 << 20 } },
      'Minimum memoryswap limit should be larger than memory limit, see usage',
    );
    refused(
      { resources: { memorySwap: 64 << 20 } },
      'You should always set the Memory limit when using Memoryswap limit, see usage',
    );
  });

  it('CPUs: NanoCpus below 0 or above the host (dockerd), cpusets the host lacks', () => {
    const range = 'Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available';
    refused({ resources: { nanoCpus: -1 } }, range);
    refused({ resources: { nanoCpus: 2e9 + 1 } }, range);
    refused({ resources: { cpuShares: -2 } }, 'invalid CPU shares -2: must not be negative');
    refused(
      { resources: { cpusetCpus: '0-4' } },
      'Requested CPUs are not available - requested 0-4, available: 0-1',
    );
  });

  it('PidsLimit: past what the kernel accepts, or past a safe integer', () => {
    refused(
      { resources: { pidsLimit: MAX_PIDS_LIMIT + 1 } },
      `invalid PidsLimit ${MAX_PIDS_LIMIT + 1}: the kernel allows at most ${MAX_PIDS_LIMIT} (0 or -1: unlimited)`,
    );
    refused(
      { resources: { pidsLimit: 1e30 } },
      'invalid pidsLimit 1e+30: must be a whole number within ±2^53',
    );
  });

  it('capabilities: unknown names, normalized as docker prints them', () => {
    refused({ capAdd: ['FOO'] }, 'invalid CapAdd: unknown capability: "CAP_FOO"');
    refused({ capDrop: ['cap_bar'] }, 'invalid CapDrop: unknown capability: "CAP_BAR"');
  });

  it('ulimits: unknown types, soft above hard, out of range (go-units)', () => {
    refused({ ulimits: [{ name: 'foo', soft: 1, hard: 1 }] }, 'invalid ulimit type: foo');
    refused(
      { ulimits: [{ name: 'nofile', soft: 10, hard: 5 }] },
      'ulimit soft limit must be less than or equal to hard limit: 10 > 5',
    );
    refused(
      { ulimits: [{ name: 'nofile', soft: -2, hard: 5 }] },
      'invalid ulimit nofile: -2 is out of range (0 to 2^53)',
    );
  });

  it('--dns: only addresses, so that no value writes lines of its own into resolv.conf', () => {
    refused(
      { dns: ['x'] },
      'invalid argument "x" for "--dns" flag: IP address is not correctly formatted: x',
    );
    refused(
      { dns: ['1.1.1.1\nnameserver 6.6.6.6'] },
      'invalid argument "1.1.1.1\\nnameserver 6.6.6.6" for "--dns" flag: IP address is not correctly formatted: 1.1.1.1\nnameserver 6.6.6.6',
    );
  });

  it('--add-host: name:ip, no line breaks into /etc/hosts', () => {
    refused(
      { extraHosts: ['db'] },
      'invalid argument "db" for "--add-host" flag: bad format for add-host: "db"',
    );
    refused(
      { extraHosts: ['db:10.0.0.1\n6.6.6.6 evil'] },
      'invalid argument "db:10.0.0.1\\n6.6.6.6 evil" for "--add-host" flag: bad format for add-host: "db:10.0.0.1\\n6.6.6.6 evil"',
    );
  });

  it('-w: absolute (dockerd), and no control characters', () => {
    refused({ workingDir: 'rel' }, "the working directory 'rel' is invalid, it needs to be an absolute path");
    refused(
      { workingDir: '/tmp\nx' },
      'the working directory "/tmp\\nx" is invalid, it must not contain control characters (a line break)',
    );
  });

  it('hostname: at most 64 bytes (dockerd), one line of letters, digits, dots and dashes', () => {
    const long = 'h'.repeat(65);
    refused({ hostname: long }, `hostname "${long}" is too long (maximum 64 bytes)`);
    refused({ hostname: 'a\nb' }, 'invalid hostname: "a\\nb"');
  });

  it('environment: no empty names (dockerd)', () => {
    refused({ env: ['=x'] }, 'invalid environment variable: =x');
  });

  it('a named volume longer than a file name may be, refused without a host path', () => {
    const name = 'v'.repeat(300);
    refused(
      { mounts: [{ type: 'volume', source: name, target: '/data', readOnly: false }] },
      `invalid volume name "${'v'.repeat(64)}…": 300 bytes long, at most 255 are allowed`,
    );
  });

  it("--ip and --network-alias on docker's default bridge (runconfig's errors)", () => {
    refused(
      { networks: [{ network: 'bridge', ip: '172.17.0.9' }] },
      'user specified IP address is supported on user defined networks only',
    );
    refused(
      { networks: [{ network: 'bridge', aliases: ['www'] }] },
      'network-scoped alias is supported only for containers in user defined networks',
    );
  });
});
