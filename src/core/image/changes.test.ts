import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../errors.ts';
import { applyChanges } from './changes.ts';

describe('applyChanges', () => {
  it('CMD and ENTRYPOINT accept the JSON form', () => {
    const c = applyChanges({}, ['CMD ["/bin/sh", "-c", "echo hi"]', 'ENTRYPOINT ["/bin/tini","--"]']);
    assert.deepEqual(c.Cmd, ['/bin/sh', '-c', 'echo hi']);
    assert.deepEqual(c.Entrypoint, ['/bin/tini', '--']);
  });
  it('CMD falls back to the shell form', () => {
    assert.deepEqual(applyChanges({}, ['CMD echo "hello world"']).Cmd, [
      '/bin/sh',
      '-c',
      'echo "hello world"',
    ]);
    assert.deepEqual(applyChanges({}, ['cmd [not json']).Cmd, ['/bin/sh', '-c', '[not json']);
  });
  it('ENV supports pairs, quotes and the legacy form, later values win', () => {
    const c = applyChanges({ Env: ['PATH=/bin', 'A=0'] }, [
      'ENV A=1 B="two words" C=x\\ y',
      'ENV LEGACY some value here',
      'ENV PATH=/usr/bin:/bin',
    ]);
    assert.deepEqual(c.Env, ['PATH=/usr/bin:/bin', 'A=1', 'B=two words', 'C=x y', 'LEGACY=some value here']);
  });
  it('LABEL, EXPOSE, WORKDIR, USER, STOPSIGNAL, VOLUME', () => {
    const c = applyChanges({}, [
      'LABEL a=b "c d"=e',
      'EXPOSE 80 53/udp 8000-8001/TCP',
      'WORKDIR /srv',
      'WORKDIR app',
      'USER 1000:1000',
      'STOPSIGNAL SIGQUIT',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /cache',
    ]);
    assert.deepEqual(c.Labels, { a: 'b', 'c d': 'e' });
    assert.deepEqual(Object.keys(c.ExposedPorts ?? {}), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp']);
    assert.equal(c.WorkingDir, '/srv/app');
    assert.equal(c.User, '1000:1000');
    assert.equal(c.StopSignal, 'SIGQUIT');
    assert.deepEqual(Object.keys(c.Volumes ?? {}), ['/data', '/logs', '/cache']);
  });
  it('does not modify its input', () => {
    const base = { Env: ['A=1'] };
    applyChanges(base, ['ENV A=2']);
    assert.deepEqual(base, { Env: ['A=1'] });
  });
  const badCases: Array<[string, RegExp]> = [
    ['RUN echo hi', /RUN is not a valid change command/],
    ['FROM busybox', /FROM is not a valid change command/],
    ['CMD', /CMD requires at least one argument/],
    ['EXPOSE 99999', /invalid port range "99999"/],
    ['EXPOSE http', /invalid port "http"/],
    ['LABEL novalue', /expected KEY=VALUE/],
    ['ENV ONLYKEY', /ENV ONLYKEY needs a value/],
    ['ENV A="unterminated', /unterminated double quote/],
    ['USER a b', /exactly one argument/],
    ['STOPSIGNAL sig-bad', /invalid signal/],
    ['VOLUME [1]', /array of strings/],
    ['', /expected INSTRUCTION/],
  ];
  for (const [change, re] of badCases) {
    it(`rejects ${JSON.stringify(change)} naming the problem`, () => {
      assert.throws(
        () => applyChanges({}, [change]),
        (e: unknown) =>
          e instanceof InvalidArgumentError &&
          re.test(e.message) &&
          e.message.includes(JSON.stringify(change)),
      );
    });
  }
});
