#!/usr/bin/env bash
# Sets up a fresh clone, idempotently: system packages (ffmpeg, chromium, and redis-server when
# no Redis answers), npm dependencies, the build, and the always-available u2netp model.
set -euo pipefail
cd "$(dirname "$0")/.."

# onnxruntime-node's install step would fetch CUDA libraries from NuGet; CPU needs none of them.
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"
export TURBO_TELEMETRY_DISABLED=1

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
if ! command -v redis-server >/dev/null 2>&1 && ! (command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1); then
  missing+=(redis-server)
fi
# The API tests run the seed's Python example client, which needs the requests library.
if ! python3 -c 'import requests' >/dev/null 2>&1 && ! /usr/bin/python3 -c 'import requests' >/dev/null 2>&1; then
  missing+=(python3-requests)
fi
# The API's web page test drives Debian's chromium headless (through playwright-core).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  # npm install rather than npm ci: npm 11 writes only this platform's optional packages into
  # the lockfile, and npm ci then refuses the lockfile it wrote itself.
  npm install --no-audit --no-fund
fi

echo "setup: building"
npx turbo run build --output-logs=errors-only

models_dir="${U2NET_HOME:-$HOME/.u2net}"
u2netp_sha256=309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8
if ! echo "$u2netp_sha256  $models_dir/u2netp.onnx" | sha256sum --check --status 2>/dev/null; then
  echo "setup: provisioning u2netp into $models_dir"
  node apps/cli/dist/main.js models pull u2netp
fi
echo "setup: ready (models in $models_dir)"
