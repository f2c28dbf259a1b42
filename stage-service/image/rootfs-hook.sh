#!/bin/sh
# The runtime root filesystem beyond what `mmdebstrap --variant=extract` unpacks (libc6, libgcc-s1,
# libstdc++6: what the Node binary links against): what a distroless base adds (CA certificates,
# a non-root user, /tmp) and nothing of the package managers.
#
#   rootfs-hook.sh add DIR     as mmdebstrap's --extract-hook (customize hooks do not run for extract)
#   rootfs-hook.sh prune DIR   on mmdebstrap's finished directory, before it is archived
set -eu
mode="$1"
root="$2"

add() {
  # ca-certificates without its dependencies (openssl, debconf and so perl): its postinst only
  # concatenates the Mozilla PEMs into one bundle, which is done here. The download uses
  # mmdebstrap's own apt configuration, so the suite is the image's, not the build host's.
  debs="$(mktemp -d)"
  (cd "$debs" && APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get download -qq ca-certificates)
  dpkg-deb -x "$debs"/ca-certificates_*.deb "$root"
  rm -rf "$debs"
  mkdir -p "$root/etc/ssl/certs"
  cat "$root"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"

  # Users as in distroless: the process runs as nonroot (65532), which owns nothing in the image.
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  mkdir -p "$root/home/nonroot" "$root/tmp"
  chown 65532:65532 "$root/home/nonroot"
  chmod 1777 "$root/tmp"
}

prune() {
  # Nothing installs packages at run time; the build host's resolv.conf/hostname must not leak in
  # (the container runtime mounts its own).
  rm -rf "$root/etc/apt" "$root/var/lib/apt" "$root/var/cache" "$root/var/log" \
    "$root/etc/dpkg" "$root/etc/resolv.conf" "$root/etc/hostname" "$root/etc/fstab" "$root/dev" \
    "$root/usr/share/gdb" "$root/usr/share/gcc" "$root/usr/share/lintian"
  # Keep each package's copyright file (licences), drop changelogs.
  find "$root/usr/share/doc" -type f ! -name copyright -delete
}

case "$mode" in
  add) add ;;
  prune) prune ;;
  *) echo "usage: rootfs-hook.sh add|prune DIR" >&2; exit 2 ;;
esac
