import type http from 'node:http';

/** The whole request body. */
export function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A JSON answer. */
export function json(res: http.ServerResponse, status: number, value: unknown): undefined {
  const bytes = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length) });
  res.end(bytes);
}

/** An error in the Distribution API's shape: `{errors: [{code, message}]}`. */
export function error(res: http.ServerResponse, status: number, code: string, message: string): undefined {
  json(res, status, { errors: [{ code, message }] });
}
