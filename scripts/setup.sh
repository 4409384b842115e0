#!/usr/bin/env bash
# Prepares a Debian 12 host and this checkout for hyperbox: installs the host packages that are missing, then the
# project's own Node 24 and dependencies (node_modules) when they are missing or do not match package-lock.json.
# Idempotent and quiet when there is nothing to do; run it as root (it calls apt-get).
# Usage: bash scripts/setup.sh
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log=$(mktemp -t hyperbox-setup.XXXXXX)
trap 'rm -f "$log"' EXIT

# runc, conmon: the container runtime and its monitor; busybox-static: the offline test/demo image; iptables,
# nftables, iproute2: networking; attr: xattr tools for the layer tests; tini: --init; skopeo: image archives;
# qemu-system-x86, qemu-utils: virtual machines; docker-registry, apache2-utils (htpasswd), openssl: the registry
# tests and benchmark run a real registry with TLS and Basic auth on 127.0.0.1; dnsmasq-base: the DNS server each
# user-defined network gets (the binary only, no system service); iperf3: the network benchmark; gcc, libc6-dev,
# zlib1g-dev: scripts/build-native.sh builds the per-container log writer (dist/native/hbx-logwriter), and the
# seccomp tests build a static probe that makes the filtered system calls inside containers.
packages=(runc conmon busybox-static iptables nftables iproute2 attr tini skopeo qemu-system-x86 qemu-utils
  docker-registry apache2-utils openssl dnsmasq-base iperf3 gcc libc6-dev zlib1g-dev)

fail() {
  echo "setup: $*" >&2
  exit 1
}

# Runs a command with its output in the log; on failure shows the log's end and stops.
quietly() {
  if ! "$@" >"$log" 2>&1; then
    echo "setup: failed: $*" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

command -v dpkg-query >/dev/null || fail "this script expects Debian (dpkg-query not found)"

missing=()
for pkg in "${packages[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || fail "missing packages: ${missing[*]}; run as root: sudo bash scripts/setup.sh"
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  quietly apt-get update -q
  quietly apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The project runs on the Node 24 that `npm ci` installs into node_modules (the npm package "node"); any npm can
# install it. node_modules is up to date when every package that package-lock.json lists is there, in its version.
deps_current() {
  local node="$top/node_modules/.bin/node"
  [ -x "$node" ] || return 1
  (cd "$top" && "$node" -e '
    const fs = require("node:fs");
    const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
    for (const [where, entry] of Object.entries(lock.packages ?? {})) {
      if (where === "" || entry.link) continue;
      let installed;
      try {
        installed = JSON.parse(fs.readFileSync(`${where}/package.json`, "utf8")).version;
      } catch {
        if (entry.optional) continue; // a platform-specific optional package not meant for this machine
        process.exit(1);
      }
      if (installed !== entry.version) process.exit(1);
    }
  ') >/dev/null 2>&1
}

if ! deps_current; then
  command -v npm >/dev/null || fail "npm is required to install the project's Node 24 (install Node.js with npm, any version >= 18)"
  echo "setup: installing node_modules (npm)"
  cd "$top"
  npm_flags=(--no-audit --no-fund --loglevel=error)
  if [ -f package-lock.json ] && ! npm ci "${npm_flags[@]}" >"$log" 2>&1; then
    # npm 11 records only this platform's optional packages in the lock file, then `npm ci` calls the lock out of
    # sync (npm/cli#4828); `npm install` installs the same locked versions.
    grep -q 'can only install packages when your package.json and package-lock.json' "$log" || {
      echo "setup: failed: npm ci" >&2
      tail -n 40 "$log" >&2
      exit 1
    }
    quietly npm install "${npm_flags[@]}"
  elif [ ! -f package-lock.json ]; then
    quietly npm install "${npm_flags[@]}"
  fi
  deps_current || fail "node_modules does not match package-lock.json after installing"
fi

"$top/node_modules/.bin/node" --version | grep -q '^v24\.' || fail "node_modules/.bin/node is not Node 24"

# The CLI's bundle (dist/hyperbox.mjs): bin/hyperbox starts ~40 ms faster from it than from the sources; and the
# native log writer (dist/native/).
bash "$top/scripts/build.sh" || fail "building dist/ failed (bash scripts/build.sh)"

# The VM guest (Debian's cloud kernel + a busybox initramfs) in .cache/guest: downloaded here, where the network
# is, because tests and benchmarks run inside private network namespaces with no route out. Cached: ~1 s when built.
echo "setup: building the VM guest image (scripts/make-guest.sh)"
bash "$top/scripts/make-guest.sh" "$top/.cache/guest" >"$log" 2>&1 || {
  tail -n 20 "$log" >&2
  fail "building the VM guest failed (bash scripts/make-guest.sh)"
}
