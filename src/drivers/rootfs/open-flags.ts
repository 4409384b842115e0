import fs from 'node:fs';

/** open(2)'s O_PATH; Node has no constant for it, and libuv passes open flags through unchanged. */
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;
export const { O_NOFOLLOW, O_DIRECTORY, O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NONBLOCK } = fs.constants;
