import { RootDir } from '../../drivers/rootfs/in-root.ts';

/** /etc/passwd and /etc/group are read whole; a larger one is not a passwd file a user lookup should parse. */
const MAX_USER_FILE = 4 * 1024 * 1024;

/**
 * A container's /etc/passwd and /etc/group as the container sees them ('' when absent), read through the rootfs
 * driver: every link followed inside the container's root by the kernel, so a running container that swaps them
 * for links to the host's files while `exec -u NAME` looks them up is read as itself, never the host.
 */
export function userFilesIn(tree: RootDir): { passwd: string; group: string } {
  const read = (p: string) => tree.readFile(p, { maxBytes: MAX_USER_FILE })?.toString('utf8') ?? '';
  return { passwd: read('/etc/passwd'), group: read('/etc/group') };
}

/** `userFilesIn` for the tree at `hostPath` (a mounted root file system, or /proc/<pid>/root). */
export function userFilesAt(hostPath: string, label: string): { passwd: string; group: string } {
  const tree = RootDir.open(hostPath, label);
  try {
    return userFilesIn(tree);
  } finally {
    tree.close();
  }
}
