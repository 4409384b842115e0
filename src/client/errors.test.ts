import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { sendError } from '../api/errors.ts';
import { type ErrorCode, HyperboxError } from '../core/errors.ts';
import { errorFromAnswer } from './errors.ts';

const CODES: ErrorCode[] = [
  'NotFound',
  'AlreadyExists',
  'InvalidArgument',
  'FailedPrecondition',
  'Conflict',
  'Unavailable',
  'NotImplemented',
  'Internal',
  'Unauthenticated',
  'CommandNotFound',
  'CannotExecute',
  'ResourceExhausted',
];

/** What the server's one translation (api/errors.ts) writes for an error: status and body. */
function served(err: HyperboxError): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const server = http.createServer((_req, res) => sendError(res, err));
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      http.get({ host: '127.0.0.1', port }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => {
          server.close();
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
    });
  });
}

describe('errors cross the API and come back the same', () => {
  it('every code: same class (code and name) and same message after server and client translations', async () => {
    for (const code of CODES) {
      const original = new HyperboxError(code, `something about ${code} "x"`);
      const { status, body } = await served(original);
      assert.ok(status >= 400, `${code} gets an error status`);
      const back = errorFromAnswer(status, body);
      assert.equal(back.code, code);
      assert.equal(back.name, original.name);
      assert.equal(back.message, original.message);
    }
  });

  it('falls back on the status for an answer without a code (docker-shaped or plain text)', () => {
    assert.equal(errorFromAnswer(404, '{"message":"No such container: x"}').code, 'NotFound');
    assert.equal(errorFromAnswer(409, 'conflict').message, 'conflict');
    assert.equal(errorFromAnswer(502, '').code, 'Internal');
  });
});
