import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conmonCreateArgs, conmonExecArgs } from './conmon-args.ts';

const paths = { conmon: '/usr/bin/conmon', runc: '/usr/sbin/runc', runcRoot: '/run/hyperbox/runc' };

/** The value following a flag (each flag appears once unless repeated on purpose). */
const flagValue = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('conmon argv', () => {
  it('runs runc create under our runc root with the files in the bundle', () => {
    const args = conmonCreateArgs(paths, {
      id: 'c1',
      name: 'web',
      bundle: '/b',
      logPath: '/l/ctr.log',
      exitDir: '/run/hyperbox/exits',
      terminal: true,
      stdin: true,
      exitCommand: ['/usr/bin/hyperbox', 'cleanup', 'c1'],
    });
    assert.equal(flagValue(args, '--api-version'), '1');
    assert.equal(flagValue(args, '-c'), 'c1');
    assert.equal(flagValue(args, '-n'), 'web');
    assert.equal(flagValue(args, '-r'), '/usr/sbin/runc');
    assert.equal(flagValue(args, '-p'), '/b/pidfile');
    assert.equal(flagValue(args, '-P'), '/b/conmon.pid');
    assert.equal(flagValue(args, '-l'), 'k8s-file:/l/ctr.log');
    assert.equal(flagValue(args, '--exit-dir'), '/run/hyperbox/exits');
    assert.ok(args.join(' ').includes('--runtime-arg --root --runtime-arg /run/hyperbox/runc'));
    assert.ok(args.includes('--full-attach') && args.includes('-t') && args.includes('-i'));
    assert.equal(flagValue(args, '--exit-command'), '/usr/bin/hyperbox');
    assert.deepEqual(
      args.filter((_, i) => args[i - 1] === '--exit-command-arg'),
      ['cleanup', 'c1'],
    );
    assert.ok(!args.includes('--leave-stdin-open'));
    assert.ok(!args.includes('--log-size-max'));
  });

  it("logs nowhere without a log path, and passes k8s-file's truncation size", () => {
    const base = { id: 'c1', name: 'web', bundle: '/b', exitDir: '/e', terminal: false, stdin: false };
    assert.equal(flagValue(conmonCreateArgs(paths, base), '-l'), 'none');
    const sized = conmonCreateArgs(paths, { ...base, logPath: '/b/container.log', logSizeMax: 1000 });
    assert.equal(flagValue(sized, '--log-size-max'), '1000');
  });

  it('leaves out the terminal, stdin and exit command when not asked', () => {
    const args = conmonCreateArgs(paths, {
      id: 'c1',
      name: 'web',
      bundle: '/b',
      logPath: '/l',
      exitDir: '/e',
      terminal: false,
      stdin: false,
    });
    for (const flag of ['-t', '-i', '--exit-command', '--leave-stdin-open'])
      assert.ok(!args.includes(flag), flag);
  });

  it('runs an exec session in its own directory', () => {
    const args = conmonExecArgs(paths, {
      id: 'c1',
      sessionId: 's1',
      dir: '/x/s1',
      terminal: false,
      stdin: true,
      attach: true,
    });
    assert.ok(args.includes('--exec') && args.includes('--exec-attach') && args.includes('-i'));
    assert.equal(flagValue(args, '-u'), 's1');
    assert.equal(flagValue(args, '--exec-process-spec'), '/x/s1/process.json');
    assert.equal(flagValue(args, '-l'), 'none');
    const detached = conmonExecArgs(paths, {
      id: 'c1',
      sessionId: 's1',
      dir: '/x',
      terminal: true,
      stdin: false,
      attach: false,
    });
    assert.ok(!detached.includes('--exec-attach') && detached.includes('-t'));
  });
});
