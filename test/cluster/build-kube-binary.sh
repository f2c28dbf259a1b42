#!/usr/bin/env bash
# Builds one Kubernetes command (kube-apiserver or kubectl) from the Go module proxy and caches it
# outside the repo, keyed by name and version: <cache>/<name>/<version>/<name>.
# `go install k8s.io/kubernetes/cmd/<name>@vX` cannot work (the root go.mod replaces every staging
# module with a local path), so a throwaway main module pins each staging module to v0.Y.Z.
# kubectl is built at the API server's version so `kubectl apply --dry-run=server` in the tests is
# inside Kubernetes' version skew policy (kubectl within one minor of the API server).
# Prints the path of the binary on stdout; everything else goes to stderr.
#
#   bash test/cluster/build-kube-binary.sh kube-apiserver|kubectl
set -euo pipefail

name="${1:-}"
case "$name" in
  kube-apiserver | kubectl) ;;
  *) echo "usage: build-kube-binary.sh kube-apiserver|kubectl" >&2; exit 2 ;;
esac
version="${KUBE_APISERVER_VERSION:-v1.36.3}"
cache_root="${ISTIO_SHIFT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/istio-traffic-shift}"
bin_dir="$cache_root/$name/$version"
binary="$bin_dir/$name"

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

work="$cache_root/$name/build-$version"
rm -rf "$work"
mkdir -p "$work" "$bin_dir"
cd "$work"
{
  echo "module local/build-$name"
  echo "go 1.26.0"
  echo "require k8s.io/kubernetes $version"
  echo "replace ("
  for m in "${staging_modules[@]}"; do echo "  k8s.io/$m => k8s.io/$m $staging_version"; done
  echo ")"
} > go.mod

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
started=$(date +%s)
echo "building $name $version (cold builds take 5-20 minutes on 2 cores)" >&2
go get "k8s.io/kubernetes/cmd/$name@$version" >&2
go build -trimpath -o "$binary.tmp" \
  -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
  "k8s.io/kubernetes/cmd/$name" >&2
mv "$binary.tmp" "$binary"
echo "built $name $version in $(( $(date +%s) - started ))s" >&2
rm -rf "$work"
echo "$binary"
