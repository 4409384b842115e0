import path from 'node:path';

/**
 * Where this hyperbox is installed (the checkout: bin/, src/, package.json). bin/hyperbox says so in HYPERBOX_TOP;
 * run from the sources without it, it is two levels above this file. (The bundle in dist/ cannot use its own path.)
 */
export function installRoot(): string {
  return process.env.HYPERBOX_TOP ?? path.resolve(import.meta.dirname, '..', '..');
}

/** The argv that runs this CLI again: for commands the monitor runs on its own, such as the exit command. */
export function selfCommand(): string[] {
  return [path.join(installRoot(), 'bin', 'hyperbox')];
}

/** The native log writer, built by scripts/build-native.sh (part of scripts/build.sh). */
export function logWriterPath(): string {
  return path.join(installRoot(), 'dist', 'native', 'hbx-logwriter');
}
