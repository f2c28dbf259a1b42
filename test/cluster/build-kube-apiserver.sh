#!/usr/bin/env bash
# Builds kube-apiserver from the Go module proxy and caches it outside the repo, keyed by version
# (see build-kube-binary.sh, which builds kubectl the same way). Prints the path of the binary.
set -euo pipefail
exec bash "$(dirname "$0")/build-kube-binary.sh" kube-apiserver
