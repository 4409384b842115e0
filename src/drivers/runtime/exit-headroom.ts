import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Room for a monitor's exit file that a container cannot take, even when it fills the file system: conmon writes
 * the exit status to `<exit dir>/<id>` (a temporary file renamed into place: one new 4 KiB page or block) after
 * its container died, and a full disk there loses the exit code (`run --rm` would report 255). So the monitor is
 * started holding a descriptor of a deleted file of `bytes` in the exit directory; conmon closes every descriptor
 * it was given right before it writes the exit file (podman relies on that to free the ports it hands over), and
 * the kernel frees the deleted file's space at that very moment, for the exit file to use.
 *
 * Returns the descriptor to hand over (the caller closes its own copy once the monitor has it), or undefined when
 * the room cannot be had (a disk already full: the start is refused before this point anyway). Exec sessions get
 * the same: their monitor writes an exit file before it reports the status on its sync pipe.
 */
export function exitHeadroom(exitDir: string, bytes = EXIT_HEADROOM_BYTES): number | undefined {
  const file = path.join(exitDir, `.headroom-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch {
    return undefined;
  }
  try {
    fs.unlinkSync(file);
    // Random bytes: a compressing file system must really set them aside.
    fs.writeSync(fd, randomBytes(bytes));
    return fd;
  } catch {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    return undefined;
  }
}

/** Four pages: the exit file's page (or block) and a directory block, with room to spare. */
export const EXIT_HEADROOM_BYTES = 16 * 1024;
