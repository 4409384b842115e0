import path from 'node:path';
import { inspectView, networkSettingsView } from '../../core/container/views.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Layout } from '../../core/paths.ts';
import { runCommand } from '../../drivers/proc/run.ts';
import type { OciRuntime } from '../../drivers/runtime/oci-runtime.ts';
import type { ContainerRecord } from '../api/containers.ts';
import type { ImageService } from '../images/service.ts';
import type { NetworkService } from '../networks/service.ts';
import type { ContainerPaths } from './files.ts';
import { logFileOf } from './logs.ts';

/** What the detailed views need: the image, the networks joined, the runtime's process list, the paths. */
export interface DetailsContext {
  layout: Layout;
  images: Pick<ImageService, 'resolve' | 'lowerDirs'>;
  networks: Pick<NetworkService, 'endpoints' | 'record' | 'ports'>;
  runtime: Pick<OciRuntime, 'pids'>;
  paths(id: string): ContainerPaths;
}

/** docker's inspect view of a container, with what other domains know of it (image, layers, networks). */
export async function inspectContainer(
  ctx: DetailsContext,
  rec: ContainerRecord,
): Promise<Record<string, unknown>> {
  const image = await ctx.images.resolve(rec.imageId).catch(() => undefined);
  const lowerDirs = image ? await ctx.images.lowerDirs(rec.imageId).catch(() => []) : [];
  const p = ctx.paths(rec.id);
  const view = inspectView(rec, {
    image: image?.config ?? {},
    logPath: logFileOf(rec.config, p)?.file ?? '',
    paths: p,
    lowerDirs,
    volumeDir: (name) => path.join(ctx.layout.volumes, name, '_data'),
  });
  const { networks } = ctx;
  view.NetworkSettings = networkSettingsView(
    networks.endpoints(rec.id),
    (id) => networks.record(id),
    networks.ports(rec.id),
  );
  return view;
}

/** `top`: the host's `ps` output, keeping only the container's processes (docker's approach). */
export async function topOf(
  ctx: DetailsContext,
  rec: ContainerRecord,
  psArgs: string[],
): Promise<{ titles: string[]; processes: string[][] }> {
  const pids = new Set(await ctx.runtime.pids(rec.id));
  const args = psArgs.length > 0 ? psArgs : ['-ef'];
  const { stdout } = await runCommand('ps', args);
  const [header = '', ...lines] = stdout.trimEnd().split('\n');
  const titles = header.trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0)
    throw new InvalidArgumentError(`couldn't find PID field in ps output for "ps ${args.join(' ')}"`);
  const processes = lines
    .map((line) => {
      const fields = line.trim().split(/\s+/);
      // The last column (the command) may contain spaces: keep it whole.
      return [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    })
    .filter((fields) => pids.has(Number(fields[pidCol])));
  return { titles, processes };
}
