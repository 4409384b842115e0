import { InvalidArgumentError } from '../errors.ts';

/** One side of `cp` that is inside a container: `CONTAINER:PATH` (an empty path is the root). */
export interface ContainerSide {
  container: string;
  path: string;
}

/**
 * What `cp SRC DEST` asks for, docker's way: one side is `CONTAINER:PATH`, the other a local path or `-`, a tar
 * stream (read from stdin and unpacked into a directory of the container, or a tar of the container's path written
 * to stdout). Decided once here, so that the in-process engine and the daemon's client refuse the same arguments
 * with the same words.
 */
export type CopyRequest =
  | { kind: 'from-container'; from: ContainerSide; dest: string }
  | { kind: 'into-container'; src: string; to: ContainerSide }
  | { kind: 'tar-out'; from: ContainerSide }
  | { kind: 'tar-in'; to: ContainerSide };

export function parseCopyArgs(src: string, dest: string): CopyRequest {
  const from = splitContainerPath(src);
  const to = splitContainerPath(dest);
  if (from && to) throw new InvalidArgumentError('copying between containers is not supported');
  if (from) return dest === '-' ? { kind: 'tar-out', from } : { kind: 'from-container', from, dest };
  if (to) return src === '-' ? { kind: 'tar-in', to } : { kind: 'into-container', src, to };
  throw new InvalidArgumentError('must specify at least one container source');
}

/** `CONTAINER:PATH`, unless the argument is a local path (absolute, or starting with `.`, may hold a colon). */
export function splitContainerPath(arg: string): ContainerSide | undefined {
  const colon = arg.indexOf(':');
  if (colon <= 0 || arg.startsWith('/') || arg.startsWith('.')) return undefined;
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || '/' };
}
