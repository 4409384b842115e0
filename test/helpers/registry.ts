import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CliResult, HYPERBOX, TEST_TRANSPORT, TestRoot } from './cli.ts';

/**
 * Real registry parts for the black-box tests: Debian's `docker-registry` (distribution 2.8) started on 127.0.0.1
 * with a random port and temporary storage, a test CA made with openssl, htpasswd files, a token server for the
 * Bearer flow, and a proxy that corrupts or throttles blobs. Everything listens on 127.0.0.1 only; everything
 * started is stopped by its PID (or closed) and every directory removed by `stop()`/`close()`.
 *
 * The token server and the proxy run in the test process, so while they are in use commands must be run with the
 * asynchronous `runAsync` (a spawnSync would block the event loop they answer from).
 */

export function registrySkipReason(): string | undefined {
  for (const tool of ['docker-registry', 'openssl', 'htpasswd']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (bash scripts/setup.sh installs docker-registry, openssl, apache2-utils)`;
  }
  return undefined;
}

export function haveTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs a command without blocking the event loop (the in-process servers keep answering meanwhile). */
export function runAsync(
  file: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** `hyperbox --root ROOT ARGS` without blocking; HYPERBOX_CONFIG and the like come in `env`. */
export function hyperboxAsync(
  root: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return runAsync(HYPERBOX, ['--root', root, ...args], opts);
}

export interface Tls {
  caCert: string; // PEM file
  cert: string;
  key: string;
}

/** A test CA and a server certificate for 127.0.0.1 and localhost, signed by it, in `dir`. */
export function makeTestCa(dir: string): Tls {
  const f = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hyperbox test CA'].concat([
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.crt'),
    ]),
  );
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key')].concat([
      '-out',
      f('server.csr'),
    ]),
  );
  fs.writeFileSync(
    f('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  openssl(
    ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key')].concat([
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f('server.ext'),
      '-out',
      f('server.crt'),
    ]),
  );
  return { caCert: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

/** An htpasswd file (bcrypt, as distribution requires) with one user. */
export function makeHtpasswd(file: string, user: string, password: string): string {
  fs.writeFileSync(file, execFileSync('htpasswd', ['-Bbn', user, password]));
  return file;
}

export interface TokenAuth {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

export interface RegistryOptions {
  /** Where the registry's directory goes (the system's temporary directory by default). */
  parent?: string;
  tls?: Tls;
  htpasswd?: string;
  token?: TokenAuth;
}

/** One docker-registry process: `host` is 127.0.0.1:PORT. */
export class Registry {
  readonly dir: string;
  readonly port: number;
  readonly tls: boolean;
  readonly #child: ChildProcess;
  #exited: Promise<void>;

  private constructor(dir: string, port: number, tls: boolean, child: ChildProcess) {
    this.dir = dir;
    this.port = port;
    this.tls = tls;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://${this.host}`;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** Where the registry keeps its blobs (for tests that look at what it stores). */
  get storage(): string {
    return path.join(this.dir, 'storage');
  }

  static async start(opts: RegistryOptions = {}): Promise<Registry> {
    const dir = fs.mkdtempSync(path.join(opts.parent ?? os.tmpdir(), 'hbx-registry-'));
    let lastError: unknown;
    // A port found free may be taken before the registry binds it: try a few.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const config = path.join(dir, 'config.yml');
      fs.writeFileSync(config, registryConfig(dir, port, opts));
      const log = fs.openSync(path.join(dir, 'registry.log'), 'a');
      const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log, log], cwd: dir });
      fs.closeSync(log);
      const registry = new Registry(dir, port, opts.tls !== undefined, child);
      try {
        await registry.#waitListening();
        return registry;
      } catch (err) {
        lastError = err;
        await registry.#kill();
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`docker-registry did not start: ${String(lastError)}`);
  }

  async #waitListening(): Promise<void> {
    let exited = false;
    void this.#exited.then(() => {
      exited = true;
    });
    for (let i = 0; i < 100; i++) {
      if (exited) throw new Error(`exited early: ${this.log().slice(-2000)}`);
      const ok = await new Promise<boolean>((resolve) => {
        const sock = net.connect(this.port, '127.0.0.1');
        sock.once('connect', () => {
          sock.destroy();
          resolve(true);
        });
        sock.once('error', () => resolve(false));
      });
      if (ok) return;
      await sleep(50);
    }
    throw new Error('not listening after 5 s');
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'registry.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async #kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      process.kill(this.pid, 'SIGTERM');
      const done = await Promise.race([this.#exited.then(() => true), sleep(3000).then(() => false)]);
      if (!done) {
        process.kill(this.pid, 'SIGKILL');
        await this.#exited;
      }
    }
  }

  /** Stops the registry (by its PID) and removes its directory. */
  async stop(): Promise<void> {
    await this.#kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function registryConfig(dir: string, port: number, opts: RegistryOptions): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: hyperbox-test-secret',
  ];
  if (opts.tls) lines.push('  tls:', `    certificate: ${opts.tls.cert}`, `    key: ${opts.tls.key}`);
  if (opts.htpasswd)
    lines.push('auth:', '  htpasswd:', '    realm: hyperbox-test', `    path: ${opts.htpasswd}`);
  if (opts.token) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${opts.token.realm}`,
      `    service: ${opts.token.service}`,
      `    issuer: ${opts.token.issuer}`,
      `    rootcertbundle: ${opts.token.rootCertBundle}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** What a token was asked for: the scopes and the account, for tests that check the client's requests. */
export interface TokenRequest {
  account: string | undefined;
  scopes: string[];
  method: string;
}

/**
 * A token server for distribution's Bearer flow: checks Basic credentials (GET) or a password grant (POST),
 * and answers with an RS256 JWT whose signing certificate (x5c) is the registry's rootcertbundle. Anonymous
 * requests get a token that grants nothing; wrong credentials get 401.
 */
export class TokenServer {
  readonly service = 'hyperbox-test-registry';
  readonly issuer = 'hyperbox-test-issuer';
  readonly requests: TokenRequest[] = [];
  readonly #server: http.Server;
  readonly #users: Record<string, string>;
  readonly #key: crypto.KeyObject;
  readonly #x5c: string;
  readonly certFile: string;
  port = 0;

  constructor(dir: string, users: Record<string, string>) {
    this.#users = users;
    const keyFile = path.join(dir, 'token.key');
    this.certFile = path.join(dir, 'token.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=hyperbox token issuer',
      ].concat(['-keyout', keyFile, '-out', this.certFile]),
      { stdio: 'pipe' },
    );
    this.#key = crypto.createPrivateKey(fs.readFileSync(keyFile));
    this.#x5c = new crypto.X509Certificate(fs.readFileSync(this.certFile)).raw.toString('base64');
    this.#server = http.createServer((req, res) => {
      void this.#handle(req, res).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  get auth(): TokenAuth {
    return {
      realm: `http://127.0.0.1:${this.port}/token`,
      service: this.service,
      issuer: this.issuer,
      rootCertBundle: this.certFile,
    };
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body = '';
    for await (const chunk of req) body += String(chunk);
    let user: string | undefined;
    let password: string | undefined;
    let scopes = url.searchParams.getAll('scope');
    if (req.method === 'POST') {
      const form = new URLSearchParams(body);
      if (form.get('grant_type') === 'password') {
        user = form.get('username') ?? undefined;
        password = form.get('password') ?? undefined;
      }
      scopes = form
        .getAll('scope')
        .flatMap((s) => s.split(' '))
        .filter(Boolean);
    } else {
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
      if (basic) {
        const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
        const colon = text.indexOf(':');
        user = text.slice(0, colon);
        password = text.slice(colon + 1);
      }
    }
    this.requests.push({ account: user, scopes, method: req.method ?? 'GET' });
    if (user !== undefined && this.#users[user] !== password) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }),
      );
      return;
    }
    const access =
      user === undefined
        ? []
        : scopes.map((s) => {
            const [type, ...rest] = s.split(':');
            const actions = rest.pop() ?? '';
            return { type, name: rest.join(':'), actions: actions.split(',').filter((a) => a !== '*') };
          });
    const token = this.#sign({ sub: user ?? '', access });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
    );
  }

  #sign(claims: { sub: string; access: unknown[] }): string {
    const now = Math.floor(Date.now() / 1000);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const header = b64({ typ: 'JWT', alg: 'RS256', x5c: [this.#x5c] });
    const payload = b64({
      iss: this.issuer,
      aud: this.service,
      iat: now,
      nbf: now - 10,
      exp: now + 300,
      jti: crypto.randomUUID(),
      ...claims,
    });
    const signature = crypto.sign('sha256', Buffer.from(`${header}.${payload}`), this.#key);
    return `${header}.${payload}.${signature.toString('base64url')}`;
  }
}

export type Corruption = 'flip' | 'extra' | 'short';

/**
 * A plain-HTTP proxy in front of a plain-HTTP registry. It can corrupt blobs (one byte flipped, bytes added, bytes
 * missing; Content-Length always matches what is sent, so only the digest or size check can notice) and throttle
 * blob downloads. `blobBytes` counts the blob bytes it served.
 */
export class BlobProxy {
  corrupt: Corruption | undefined;
  /** Only corrupt blobs whose digest is in here (all blobs when empty). */
  readonly corruptDigests = new Set<string>();
  bytesPerSecond: number | undefined;
  blobBytes = 0;
  readonly #server: http.Server;
  readonly #target: number;
  port = 0;

  constructor(targetPort: number) {
    this.#target = targetPort;
    this.#server = http.createServer((req, res) => this.#forward(req, res));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const blob = /^\/v2\/.+\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '');
    const upstream = http.request(
      { host: '127.0.0.1', port: this.#target, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        const status = up.statusCode ?? 502;
        const isBlobBody = req.method === 'GET' && blob !== null && status === 200;
        if (!isBlobBody) {
          res.writeHead(status, up.headers);
          up.pipe(res);
          return;
        }
        void this.#serveBlob(blob[1]!, up, res).catch(() => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  async #serveBlob(digest: string, up: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const corrupt =
      this.corrupt !== undefined && (this.corruptDigests.size === 0 || this.corruptDigests.has(digest))
        ? this.corrupt
        : undefined;
    const headers = { ...up.headers };
    if (corrupt === undefined && this.bytesPerSecond === undefined) {
      res.writeHead(200, headers);
      up.on('data', (d: Buffer) => {
        this.blobBytes += d.length;
      });
      up.pipe(res);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of up) chunks.push(c as Buffer);
    let body = Buffer.concat(chunks);
    if (corrupt === 'flip') {
      body = Buffer.from(body);
      const at = Math.floor(body.length / 2);
      body[at] = body[at]! ^ 0xff;
    } else if (corrupt === 'extra') {
      body = Buffer.concat([body, Buffer.from('trailing garbage')]);
    } else if (corrupt === 'short') {
      body = body.subarray(0, Math.max(0, body.length - 100));
    }
    headers['content-length'] = String(body.length);
    res.writeHead(200, headers);
    const step = 16 * 1024;
    for (let off = 0; off < body.length; off += step) {
      if (res.destroyed) return;
      const piece = body.subarray(off, off + step);
      this.blobBytes += piece.length;
      if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve));
      if (this.bytesPerSecond !== undefined) await sleep((piece.length / this.bytesPerSecond) * 1000);
    }
    res.end();
  }
}

/** A temporary directory removed at process exit at the latest. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** GET a registry document or blob over plain HTTP (for tests that look at the registry directly). */
export async function registryGet(url: string, accept?: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url, accept ? { headers: { accept } } : {});
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/**
 * A registry user: a private hyperbox root plus a private config directory (HYPERBOX_CONFIG: credentials and
 * certs.d), commands run without blocking.
 */
export class RegistryUser {
  readonly root: TestRoot;
  /** The CLI's config: its logins (and its trust, for `login`, which it checks itself). */
  readonly config: string;
  /** The daemon's own config in daemon mode (trust only: it keeps no logins, as dockerd); undefined in-process. */
  readonly daemonConfig: string | undefined;

  constructor() {
    this.config = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-config-'));
    this.daemonConfig =
      TEST_TRANSPORT === 'daemon' ? fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-daemon-config-')) : undefined;
    this.root = new TestRoot(this.daemonConfig ? { daemonEnv: { HYPERBOX_CONFIG: this.daemonConfig } } : {});
  }

  run(
    args: string[],
    opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<CliResult> {
    return hyperboxAsync(this.root.root, args, {
      ...opts,
      env: { HYPERBOX_CONFIG: this.config, ...opts.env },
    });
  }

  async ok(args: string[], opts: { input?: string } = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.status !== 0)
      throw new Error(`hyperbox ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Trusts a test CA for one registry, as docker's certs.d does. */
  trust(host: string, caCert: string): void {
    for (const config of [this.config, this.daemonConfig]) {
      if (!config) continue;
      const dir = path.join(config, 'certs.d', host);
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(caCert, path.join(dir, 'ca.crt'));
    }
  }

  /** The daemon's files (its config and state root) that hold `secret`: none, whatever the CLI stored. */
  daemonFilesHolding(secret: string): string[] {
    if (!this.daemonConfig) return [];
    return [this.daemonConfig, this.root.root].flatMap((d) =>
      filesHolding(d, secret).map((f) => path.join(d, f)),
    );
  }

  async imageId(ref: string): Promise<string> {
    return (await this.ok(['image', 'inspect', '--format', '{{.Id}}', ref])).trim();
  }

  cleanup(): string[] {
    fs.rmSync(this.config, { recursive: true, force: true });
    if (this.daemonConfig) fs.rmSync(this.daemonConfig, { recursive: true, force: true });
    return this.root.cleanup();
  }
}

/** Uploads a blob to a plain-HTTP registry without auth (POST, then PUT with the digest). */
export async function uploadBlob(base: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`upload start: ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location')!, base);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new Error(`upload ${digest}: ${put.status} ${await put.text()}`);
  return digest;
}

export async function putManifest(
  base: string,
  repo: string,
  reference: string,
  doc: { mediaType: string },
): Promise<{ digest: string; size: number; bytes: Buffer }> {
  const bytes = Buffer.from(JSON.stringify(doc));
  const res = await fetch(`${base}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': doc.mediaType },
  });
  if (res.status !== 201)
    throw new Error(`put manifest ${repo}:${reference}: ${res.status} ${await res.text()}`);
  return {
    digest: `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.length,
    bytes,
  };
}

/** The files below a directory whose name is not the sha256 of their content (corrupt blobs). */
export function corruptBlobs(blobsDir: string): string[] {
  if (!fs.existsSync(blobsDir)) return [];
  return fs.readdirSync(blobsDir).filter((name) => {
    const hash = crypto
      .createHash('sha256')
      .update(fs.readFileSync(path.join(blobsDir, name)))
      .digest('hex');
    return hash !== name;
  });
}

/** Every file below a directory, relative; [] when it does not exist. */
/** Files below `dir` (sockets and such skipped) whose bytes contain `secret`: a stored password shows up here. */
export function filesHolding(dir: string, secret: string): string[] {
  return filesBelow(dir).filter((f) => {
    const file = path.join(dir, f);
    try {
      return fs.statSync(file).isFile() && fs.readFileSync(file).includes(secret);
    } catch {
      return false; // gone meanwhile
    }
  });
}

export function filesBelow(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => !d.isDirectory())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
}
