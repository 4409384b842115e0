#!/usr/bin/env bash
# Runs a command in a private network namespace (only `lo`, no route out) and a private mount namespace, so that
# the bridges, veths, rules, DNS servers and packets it makes never reach the host's. /sys is remounted to show this
# namespace's links (the network layer reads /sys/class/net), with the cgroup hierarchies moved over for runc.
# Usage: scripts/in-private-netns.sh COMMAND [ARG...]
set -euo pipefail
[ "${1:-}" = --inside ] || exec unshare --net --mount --propagation private -- "$0" --inside "$@"
shift
mount -t tmpfs hbx-netns-prep /mnt
mkdir /mnt/cg
mount --rbind /sys/fs/cgroup /mnt/cg
mount -t sysfs sysfs /sys
mount --move /mnt/cg /sys/fs/cgroup
umount /mnt
ip link set lo up
exec "$@"
