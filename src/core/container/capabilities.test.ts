import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../errors.ts';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, resolveCapabilities } from './capabilities.ts';

const resolve = (capAdd: string[], capDrop: string[], privileged = false) =>
  resolveCapabilities({ privileged, capAdd, capDrop });

describe('resolveCapabilities', () => {
  it("gives docker's 14 default capabilities", () => {
    assert.equal(resolve([], []).length, 14);
    assert.deepEqual(new Set(resolve([], [])), new Set(DEFAULT_CAPABILITIES));
  });

  it('adds and drops, with or without CAP_, in any case', () => {
    const caps = resolve(['net_admin', 'CAP_SYS_PTRACE'], ['CHOWN', 'cap_kill']);
    assert.ok(caps.includes('CAP_NET_ADMIN'));
    assert.ok(caps.includes('CAP_SYS_PTRACE'));
    assert.ok(!caps.includes('CAP_CHOWN'));
    assert.ok(!caps.includes('CAP_KILL'));
  });

  it('handles ALL: drop ALL keeps only the added ones, add ALL keeps all but the dropped', () => {
    assert.deepEqual(resolve(['NET_BIND_SERVICE'], ['ALL']), ['CAP_NET_BIND_SERVICE']);
    const all = resolve(['all'], ['SYS_ADMIN']);
    assert.equal(all.length, ALL_CAPABILITIES.length - 1);
    assert.ok(!all.includes('CAP_SYS_ADMIN'));
  });

  it('gives everything to a privileged container', () => {
    assert.deepEqual(resolve([], ['ALL'], true), [...ALL_CAPABILITIES]);
  });

  it('rejects an unknown name, naming it', () => {
    assert.throws(
      () => resolve(['CAP_FLY'], []),
      (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError);
        assert.match(err.message, /CAP_FLY/);
        return true;
      },
    );
    assert.throws(() => resolve([], ['teleport']), /unknown capability: "CAP_TELEPORT"/);
  });
});

describe('host capability limits', () => {
  it('reads a bounding mask and narrows privileged sets to it, refusing named caps the host lacks', async () => {
    const { capabilitiesFromMask, limitToHost } = await import('./capabilities.ts');
    const host = capabilitiesFromMask('000001fffeffffff');
    assert.equal(host.includes('CAP_SYS_RESOURCE'), false);
    assert.equal(host.includes('CAP_SYS_ADMIN'), true);
    assert.deepEqual(limitToHost(['CAP_CHOWN', 'CAP_SYS_RESOURCE'], host, []), ['CAP_CHOWN']);
    assert.throws(
      () => limitToHost(['CAP_SYS_RESOURCE'], host, ['SYS_RESOURCE']),
      /CAP_SYS_RESOURCE is not available/,
    );
  });
});
