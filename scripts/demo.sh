#!/usr/bin/env bash
# The main job on its embedded defaults: set up, then run the whole local stack (Redis, the HTTP
# API, a worker), send the sample photo and a generated clip through /v1/convert/, poll
# /v1/results/ and download the results into ./out. It prints the web page's address; with
# --serve it leaves the stack running (until Ctrl-C) so the page can be tried in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
rm -rf out
node apps/demo/dist/main.js "$@"
