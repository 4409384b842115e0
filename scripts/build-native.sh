#!/usr/bin/env bash
# Builds hyperbox's native helpers into dist/native/ with Debian's gcc (packages gcc, libc6-dev, zlib1g-dev),
# statically linked: hbx-logwriter (native/log-writer/), the per-container log writer between conmon and the log
# files. Rebuilt only when a source (or this script) is newer than the binary; the new binary is renamed into place, so running writers keep theirs.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p dist/native
out=dist/native/hbx-logwriter
if [ ! -x "$out" ] || [ -n "$(find native/log-writer scripts/build-native.sh -newer "$out" -print -quit)" ]; then
  command -v cc >/dev/null || { echo "build-native: no C compiler: apt-get install -y gcc libc6-dev zlib1g-dev" >&2; exit 1; }
  # Static: one writer runs per container, and a static binary's pages are shared by all of them, where the
  # dynamic loader's relocations of libc and zlib cost each process ~60 KiB of private memory.
  cc -O2 -Wall -Wextra -Werror -static -o "$out.tmp" native/log-writer/*.c -lz
  mv "$out.tmp" "$out"
fi
