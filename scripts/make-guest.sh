#!/usr/bin/env bash
# Builds the hyperbox VM guest from Debian packages only: OUTDIR/vmlinuz (Debian cloud kernel),
# OUTDIR/initrd.img (busybox-static initramfs running scripts/guest/init) and OUTDIR/guest.json.
# Usage: scripts/make-guest.sh [OUTDIR]   (default: .cache/guest in the repository)
# Idempotent and cached: when guest.json records the same inputs (kernel package version, init files,
# busybox version) nothing is rebuilt, so tests, the demo and the bench can call it freely.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/.cache/guest}
guest_src=$repo/scripts/guest
# Modules virtio_net/virtio_blk need, in dependency order (checked against each .ko's depends=), plus
# button + evdev for the ACPI power button. All are =m in the cloud kernel's config.
modules="virtio_ring virtio virtio_mmio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net virtio_blk button evdev"

fail() {
  echo "make-guest: $*" >&2
  exit 1
}

for tool in apt-cache apt-get dpkg-deb dpkg-query gzip sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool not found (Debian expected)"
done
[ -x /bin/busybox ] || fail "/bin/busybox not found: install busybox-static (scripts/setup.sh)"
bb_status=$(dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null || true)
[ "$bb_status" = installed ] || fail "busybox-static is not installed (run scripts/setup.sh)"

# The versioned kernel package behind the linux-image-cloud-amd64 meta package.
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || fail "cannot resolve linux-image-cloud-amd64 to a versioned kernel package (apt-get update?)"
kver_pkg=$(apt-cache policy "$kpkg" | awk '/Candidate:/ { print $2 }')
bb_ver=$(dpkg-query -W -f='${Version}' busybox-static)
inputs=$( (echo "$kpkg $kver_pkg busybox $bb_ver $modules"; cat "$guest_src/init" "$guest_src/hello.cgi" "$0") | sha256sum | cut -d' ' -f1)

if [ -f "$out/guest.json" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] &&
  grep -q "\"inputs\": \"$inputs\"" "$out/guest.json"; then
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hbx-make-guest-XXXXXX")
trap 'rm -rf "$work"' EXIT
# The kernel .deb is kept in a download cache shared by every OUTDIR, so a rebuild needs no network.
debs=${HBX_DEB_CACHE:-$repo/.cache/debs}
deb=$debs/${kpkg}_${kver_pkg//:/%3a}_amd64.deb
if [ ! -f "$deb" ]; then
  mkdir -p "$work/deb" "$debs"
  # apt-get download writes into the current directory; as root it warns that _apt cannot write there.
  (cd "$work/deb" && apt-get download -q "$kpkg" >/dev/null 2>"$work/apt.log") ||
    { cat "$work/apt.log" >&2; fail "apt-get download $kpkg failed"; }
  mv "$work"/deb/*.deb "$deb"
fi
dpkg-deb -x "$deb" "$work/kernel"
kver=$(ls "$work/kernel/lib/modules")
[ -f "$work/kernel/boot/vmlinuz-$kver" ] || fail "no vmlinuz in $kpkg"

# The initramfs tree.
root=$work/root
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,data,lib/modules,www/cgi-bin,root}
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
for m in $modules; do
  ko=$(find "$work/kernel/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" | head -n1)
  [ -n "$ko" ] || fail "module $m not in $kpkg"
  case "$ko" in
  *.xz) xz -dc "$ko" >"$root/lib/modules/$m.ko" ;;
  *) cp "$ko" "$root/lib/modules/$m.ko" ;;
  esac
done
install -m 0755 "$guest_src/init" "$root/init"
install -m 0755 "$guest_src/hello.cgi" "$root/www/cgi-bin/index.cgi"
install -m 0755 "$guest_src/hello.cgi" "$root/www/cgi-bin/hello"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
# The kernel opens /dev/console before /init runs (devtmpfs is mounted only by /init).
if [ "$(id -u)" -eq 0 ]; then
  mknod -m 600 "$root/dev/console" c 5 1
  mknod -m 666 "$root/dev/null" c 1 3
fi

mkdir -p "$out"
(cd "$root" && find . | LC_ALL=C sort | /bin/busybox cpio -o -H newc 2>/dev/null) | gzip -9 >"$work/initrd.img"
cp "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinuz"
cmdline='console=ttyS0 ip=<client-ip>::<gw-ip>:<netmask>:<hostname>:eth0:off hbx.dns=<ip> hbx.mkfs=1 tsc_early_khz=<host-khz> quiet'
cat >"$work/guest.json" <<JSON
{
  "inputs": "$inputs",
  "kernelPackage": "$kpkg",
  "kernelPackageVersion": "$kver_pkg",
  "kernelVersion": "$kver",
  "busyboxVersion": "$bb_ver",
  "modules": "$modules",
  "cmdline": "$cmdline",
  "files": {
    "vmlinuz": { "sha256": "$(sha256sum "$work/vmlinuz" | cut -d' ' -f1)" },
    "initrd.img": { "sha256": "$(sha256sum "$work/initrd.img" | cut -d' ' -f1)" }
  }
}
JSON
# guest.json last: its presence with matching inputs marks a complete build.
rm -f "$out/guest.json"
mv "$work/vmlinuz" "$out/vmlinuz"
mv "$work/initrd.img" "$out/initrd.img"
mv "$work/guest.json" "$out/guest.json"
echo "make-guest: built $out (kernel $kver)"
