#!/usr/bin/env bash
# Builds kube-apiserver from the Go module proxy and caches it outside the repo, keyed by version.
# `go install k8s.io/kubernetes/cmd/kube-apiserver@vX` cannot work (the root go.mod replaces every
# staging module with a local path), so a throwaway main module pins each staging module to v0.Y.Z.
# Prints the path of the binary on stdout; everything else goes to stderr.
set -euo pipefail

version="${KUBE_APISERVER_VERSION:-v1.36.3}"
cache_root="${ISTIO_SHIFT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/istio-traffic-shift}"
bin_dir="$cache_root/kube-apiserver/$version"
binary="$bin_dir/kube-apiserver"

if [ -x "$binary" ]; then
  echo "$binary"
  exit 0
fi

minor="${version#v1.}"; minor="${minor%%.*}"
patch="${version##*.}"
staging_version="v0.$minor.$patch"
staging_modules=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api cri-client
  cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
  kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission
  sample-apiserver sample-cli-plugin sample-controller streaming)

work="$cache_root/kube-apiserver/build-$version"
rm -rf "$work"
mkdir -p "$work" "$bin_dir"
cd "$work"
{
  echo "module local/kas"
  echo "go 1.26.0"
  echo "require k8s.io/kubernetes $version"
  echo "replace ("
  for m in "${staging_modules[@]}"; do echo "  k8s.io/$m => k8s.io/$m $staging_version"; done
  echo ")"
} > go.mod

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
started=$(date +%s)
echo "building kube-apiserver $version (cold builds take 10-20 minutes on 2 cores)" >&2
go get "k8s.io/kubernetes/cmd/kube-apiserver@$version" >&2
go build -trimpath -o "$binary.tmp" \
  -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
  k8s.io/kubernetes/cmd/kube-apiserver >&2
mv "$binary.tmp" "$binary"
echo "built kube-apiserver $version in $(( $(date +%s) - started ))s" >&2
rm -rf "$work"
echo "$binary"
