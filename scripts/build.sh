#!/usr/bin/env bash
# Bundles the CLI into ES modules under dist/: dist/hyperbox.mjs, the entry, and dist/chunks/, the code that only
# some commands load (the API server, zod, tar, the registry client...). A few files to read instead of ~300
# modules to resolve and strip of types, which saves ~40 ms on every command; splitting keeps what a command does not
# import out of its start-up (another ~20 ms). bin/hyperbox uses the bundle only while its entry is newer than every
# source file, so an edited checkout never runs stale code (it falls back to the sources until the next build).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# Chunk names carry a hash of their content: old ones would pile up.
rm -rf dist/chunks dist/hyperbox.mjs
node_modules/.bin/esbuild src/cli/main.ts --bundle --platform=node --format=esm --target=node24 \
  --splitting --outdir=dist --entry-names=hyperbox --chunk-names='chunks/[name]-[hash]' \
  --out-extension:.js=.mjs --external:node-unix-socket --log-level=warning \
  --banner:js="import { createRequire as __hyperboxRequire } from 'node:module'; const require = __hyperboxRequire(import.meta.url);"
# The native helpers (dist/native/): the per-container log writer.
bash scripts/build-native.sh
