#!/usr/bin/env bash
# From a fresh checkout to running containers in one command: sets the host and the checkout up (scripts/setup.sh),
# then walks through hyperbox's container lifecycle, printing each command before it runs it.
# Everything happens under a temporary state root in /tmp that is removed at the end: the demo leaves nothing behind.
# Usage: sudo bash scripts/demo.sh      (HYPERBOX_DEMO_SKIP_SETUP=1 skips the set-up step)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: containers need root: sudo bash scripts/demo.sh" >&2
  exit 1
fi

if [ -t 1 ]; then bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'; else bold='' dim='' off=''; fi

step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }

# Shell-quotes an argument for display only when it needs it.
quote() {
  case $1 in
    *[!A-Za-z0-9_./:=@%+-]* | '') printf "'%s'" "${1//\'/\'\\\'\'}" ;;
    *) printf '%s' "$1" ;;
  esac
}

hyperbox() { "$top/bin/hyperbox" "$@"; }

# Prints the command as a user would type it, then runs it.
show() {
  local line='$ hyperbox' arg
  for arg in "$@"; do line+=" $(quote "$arg")"; done
  printf '%s%s%s\n' "$dim" "$line" "$off"
  hyperbox "$@"
}

if [ "${HYPERBOX_DEMO_SKIP_SETUP:-0}" != 1 ]; then
  step "Setting up the host and the checkout (scripts/setup.sh)"
  bash "$top/scripts/setup.sh"
  echo "ready"
fi

work=$(mktemp -d /tmp/hyperbox-demo.XXXXXX)
export HYPERBOX_ROOT="$work/root"

cleanup() {
  local status=$?
  # Everything the demo made, through hyperbox (containers, their mounts, the networks' bridges and rules), then
  # whatever might still be mounted below the work directory.
  hyperbox system reset --force >/dev/null 2>&1 || true
  awk -v dir="$work" '$5 == dir || index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r mnt; do umount -l "$mnt" || true; done
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then echo "demo: failed (exit $status); removed $work" >&2; fi
}
trap cleanup EXIT

step "Checking the host's prerequisites"
show system check

step "Building a busybox image, offline, from Debian's busybox-static"
bash "$top/scripts/make-busybox-rootfs.sh" "$work/rootfs" >/dev/null
echo "root file system in $work/rootfs"
show image import "$work/rootfs" busybox:1
show images

step "Running a throw-away container"
show run --rm busybox:1 echo hi

step "Running a container in the background"
# sh as PID 1 ignores SIGTERM unless it traps it: the trap lets `stop` end it at once instead of after its timeout.
show run -d --name demo busybox:1 sh -c 'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done'
show ps
sleep 2

step "Reading its output and running a command inside it"
show logs demo
show exec demo ps
show exec demo hostname

step "Stopping and removing it"
show stop demo
show ps -a
show rm demo
show ps -a

step "Keeping data in a named volume across containers"
show volume create notes
show run --rm -v notes:/data busybox:1 sh -c 'echo "written by a container that is gone" > /data/note'
show run --rm -v notes:/data busybox:1 cat /data/note
show volume ls
show volume rm notes

step "Networks: containers reach each other by name; a published port answers on the host"
show network create demo-net
show run -d --name web --network demo-net -p 127.0.0.1::80 busybox:1 sh -c 'echo "hello from $(hostname)" > /www; exec httpd -f -h / -p 80'
show run --rm --network demo-net busybox:1 sh -c 'printf "GET /www HTTP/1.0\r\n\r\n" | nc web 80 | tail -n 1'
show port web
published=$(hyperbox port web 80/tcp | head -n 1)
printf '%s$ (host) GET http://%s/www%s\n' "$dim" "$published" "$off"
exec 3<>"/dev/tcp/${published%:*}/${published##*:}" && printf 'GET /www HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3 && exec 3<&-
show rm -f web

step "Heavy-weight: how many VMs fit, then one VM with dedicated CPU, memory and disk on the same network"
show plan --host cores=4,threads=2,memory=16G,disk=500G --vm cpus=1,memory=1G,disk=10G
# The guest: Debian's cloud kernel + a busybox initramfs serving {"hello":"<hostname>"} (built by setup).
bash "$top/scripts/make-guest.sh" "$top/.cache/guest" >/dev/null
show vm create --name hello --cpus 1 --memory 256M --disk 1G --network demo-net \
  --kernel "$top/.cache/guest/vmlinuz" --initrd "$top/.cache/guest/initrd.img" --start
printf '%swaiting for the guest to boot (QEMU %s)...%s\n' "$dim" "$(hyperbox vm inspect -f '{{.Accelerator.Accel}}' hello 2>/dev/null || echo)" "$off"
for _ in $(seq 1 150); do
  hyperbox vm logs hello 2>/dev/null | grep -q 'hyperbox-guest: ready' && break
  sleep 0.2
done
show vm ls
vm_ip=$(hyperbox vm logs hello | sed -n 's/.*hyperbox-guest: ready \([0-9.]*\).*/\1/p' | head -n 1)
printf '%s$ (host) GET http://%s/%s\n' "$dim" "$vm_ip" "$off"
exec 3<>"/dev/tcp/$vm_ip/80" && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3 && echo && exec 3<&-
show run --rm --network demo-net busybox:1 sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc hello 80 | tail -n 1; echo'
show host
show vm rm -f hello
show network rm demo-net
step "Done"
echo "the demo's state root $HYPERBOX_ROOT is removed on exit; state normally lives in /var/lib/hyperbox"
