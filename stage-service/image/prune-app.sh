#!/bin/sh
# Shrinks an /app staged by `npm ci --omit=dev` to what `node stage-service/dist/cli.js` loads.
# Shared by the Dockerfile and build.sh so both images hold the same files.
set -eu
app="$1"
cd "$app"
# Workspace links other than core (the CLI needs only core) and the Deck plugin's empty stub.
rm -rf node_modules/@istio-shift/deck-plugin node_modules/@istio-shift/stage-service deck-plugin \
  node_modules/.bin package-lock.json node_modules/.package-lock.json
# Type declarations, source maps and docs are never loaded at run time (about half of the size).
find . -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
  -o -name '*.tsbuildinfo' -o -iname '*.md' \) -delete
# The stage service's HTTP entry point stays (same dist), but no tests ship.
find . -type f -name '*.test.js' -delete
