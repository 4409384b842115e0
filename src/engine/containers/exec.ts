import fs from 'node:fs';
import path from 'node:path';
import type { OciSpec } from '../../core/container/oci-types.ts';
import type { ExecSession } from '../../core/container/process-io.ts';
import { resolveUser } from '../../core/container/user.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { OciRuntime } from '../../drivers/runtime/oci-runtime.ts';
import type { ContainerRecord, ExecRequest } from '../api/containers.ts';
import type { ContainerPaths } from './files.ts';
import { userFilesAt } from './rootfs-read.ts';
import { hostCapabilities } from './spec.ts';

/** What exec needs of the containers: the record of a running one, its directories, the runtime. */
export interface ExecContext {
  requireRunning(ref: string): ContainerRecord;
  paths(id: string): ContainerPaths;
  runtime: Pick<OciRuntime, 'exec'>;
}

/**
 * `exec`: a new process in a running container, inheriting what its main process got (environment, working
 * directory, user, capabilities: read back from the bundle's config.json, the spec it was started with), with
 * the request's overrides on top.
 */
export async function execInContainer(ctx: ExecContext, ref: string, req: ExecRequest): Promise<ExecSession> {
  const rec = ctx.requireRunning(ref);
  if (req.args.length === 0) throw new InvalidArgumentError('no command specified');
  const p = ctx.paths(rec.id);
  const spec = JSON.parse(fs.readFileSync(path.join(p.bundle, 'config.json'), 'utf8')) as OciSpec;
  const proc = spec.process!;
  let user = {
    uid: proc.user.uid,
    gid: proc.user.gid,
    additionalGids: proc.user.additionalGids ?? [],
  };
  if (req.user !== undefined) {
    // From its root file system, as docker's daemon reads them, through the rootfs driver: the container runs and
    // may swap them for links to the host's files while we look.
    const r = resolveUser(req.user, userFilesAt(p.rootfs, `container ${rec.name}`));
    user = { uid: r.uid, gid: r.gid, additionalGids: r.additionalGids };
  }
  const env = mergeEnv(proc.env ?? [], req.env);
  return ctx.runtime.exec(rec.id, {
    args: req.args,
    env,
    cwd: req.workdir ?? proc.cwd,
    user,
    tty: req.tty,
    stdin: req.stdin,
    detach: req.detach,
    ...(req.consoleSize ? { consoleSize: req.consoleSize } : {}),
    capabilities: req.privileged ? hostCapabilities() : (proc.capabilities?.bounding ?? []),
    noNewPrivileges: proc.noNewPrivileges ?? false,
  });
}

function mergeEnv(base: string[], overrides: string[]): string[] {
  const map = new Map<string, string>();
  for (const e of [...base, ...overrides]) {
    const eq = e.indexOf('=');
    map.set(eq < 0 ? e : e.slice(0, eq), e);
  }
  return [...map.values()];
}
