import { mkdirSync, watch } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { InternalError } from '../../core/errors.ts';
import type { ExitLocation, ExitRecord } from './oci-runtime.ts';

/**
 * Reads conmon's exit file (`<exitDir>/<id>`: the exit status as decimal text, written atomically by rename) and
 * the `oom` marker conmon creates in the bundle (its cwd) when the container's memory cgroup reported an OOM kill.
 */
export async function readExitFile(loc: ExitLocation): Promise<ExitRecord | undefined> {
  const file = path.join(loc.exitDir, loc.id);
  // Read and dated through one open file: whoever records the exit deletes the file, maybe between two calls.
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let text: string;
  let finishedAt: number;
  try {
    text = await handle.readFile('utf8');
    finishedAt = (await handle.stat()).mtimeMs;
  } finally {
    await handle.close();
  }
  const exitCode = Number(text.trim());
  if (!Number.isInteger(exitCode))
    throw new InternalError(`exit file ${file} holds no exit status: "${text}"`);
  return { exitCode, finishedAt, oomKilled: await exists(path.join(loc.bundle, 'oom')) };
}

/** Resolves when the exit file exists: a watch on the exit directory, armed before the first look (no race). */
export function waitExitFile(loc: ExitLocation & { signal?: AbortSignal }): Promise<ExitRecord> {
  return new Promise((resolve, reject) => {
    let done = false;
    const watcher = watch(loc.exitDir, { persistent: true });
    const finish = (err: unknown, record?: ExitRecord) => {
      if (done) return;
      done = true;
      watcher.close();
      loc.signal?.removeEventListener('abort', onAbort);
      if (record) resolve(record);
      else reject(err);
    };
    const check = () => {
      readExitFile(loc).then(
        (record) => {
          if (record) finish(undefined, record);
        },
        (err) => finish(err),
      );
    };
    const onAbort = () => finish(loc.signal?.reason ?? new Error('aborted'));
    loc.signal?.addEventListener('abort', onAbort);
    watcher.on('change', (_event, name) => {
      if (name === null || String(name) === loc.id) check();
    });
    watcher.on('error', (err) => finish(err));
    check();
  });
}

/**
 * Calls `onExit(id)` for each exit file that appears in `exitDir`, whatever container it is of (a long-running
 * engine records exits as monitors write them). Returns a stop function.
 */
export function watchExitDir(exitDir: string, onExit: (id: string) => void): () => void {
  mkdirSync(exitDir, { recursive: true });
  const watcher = watch(exitDir, (_event, file) => {
    if (file) onExit(String(file));
  });
  watcher.on('error', () => {});
  return () => watcher.close();
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
