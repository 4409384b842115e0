import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../errors.ts';
import { parseSignal, stopSignalFor } from './signals.ts';

describe('parseSignal', () => {
  it('accepts names with and without SIG, any case, and numbers', () => {
    for (const text of ['SIGTERM', 'TERM', 'term', '15', ' sigterm ']) {
      assert.deepEqual(parseSignal(text), { name: 'SIGTERM', number: 15 });
    }
    assert.deepEqual(parseSignal('KILL'), { name: 'SIGKILL', number: 9 });
    assert.deepEqual(parseSignal('SIGUSR1'), { name: 'SIGUSR1', number: 10 });
  });

  it('names aliases by their canonical name', () => {
    assert.equal(parseSignal('IOT').name, 'SIGABRT');
    assert.equal(parseSignal('29').name, 'SIGIO');
  });

  it('accepts the real-time range', () => {
    assert.deepEqual(parseSignal('SIGRTMIN+3'), { name: 'SIGRTMIN+3', number: 37 });
    assert.deepEqual(parseSignal('RTMAX-1'), { name: 'SIGRTMIN+29', number: 63 });
    assert.equal(parseSignal('34').name, 'SIGRTMIN');
  });

  it('rejects what is not a signal, naming it', () => {
    for (const text of ['SIGFOO', '0', '65', '', 'RTMAX+1', '-1']) {
      assert.throws(
        () => parseSignal(text),
        (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError);
          assert.ok(err.message.includes(text));
          return true;
        },
      );
    }
  });

  it('picks the stop signal: container, image, SIGTERM', () => {
    assert.equal(stopSignalFor('SIGINT', 'SIGQUIT').name, 'SIGINT');
    assert.equal(stopSignalFor(undefined, 'SIGQUIT').name, 'SIGQUIT');
    assert.equal(stopSignalFor(undefined, undefined).name, 'SIGTERM');
    assert.equal(stopSignalFor(undefined, '').name, 'SIGTERM');
  });
});
