#!/usr/bin/env bash
# The main job on its embedded defaults: set up, then cut out the bundled sample photos into ./out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
rm -rf out
node apps/cli/dist/main.js fixtures/images -o out
echo
echo "Cut-outs written to $(pwd)/out:"
ls -1 out
