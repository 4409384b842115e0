#!/usr/bin/env bash
# Builds a small busybox root file system from Debian's busybox-static, offline: the demo image and the test image.
# Usage: scripts/make-busybox-rootfs.sh DIR
set -euo pipefail
dir=${1:?usage: make-busybox-rootfs.sh DIR}
bb=/bin/busybox
[ -x "$bb" ] || { echo "busybox-static is missing: apt-get install -y busybox-static" >&2; exit 1; }
mkdir -p "$dir"/{bin,sbin,etc,root,tmp,home,var,usr/bin,usr/sbin,proc,sys,dev}
chmod 1777 "$dir/tmp"
cp "$bb" "$dir/bin/busybox"
# One symlink per applet, as busybox --install -s would make (it cannot target another root).
for applet in $("$bb" --list); do
  [ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
done
cat > "$dir/etc/passwd" <<'EOP'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
EOP
cat > "$dir/etc/group" <<'EOG'
root:x:0:
daemon:x:1:
users:x:100:app
app:x:1000:
nogroup:x:65534:
EOG
mkdir -p "$dir/home/app" && chown 1000:1000 "$dir/home/app"
echo "busybox rootfs ready in $dir"
