#!/usr/bin/env bash
# Every check: set up, then lint/format check, typecheck and all tests (real model, sharp, ffmpeg).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TURBO_TELEMETRY_DISABLED=1
npx biome ci .
npx turbo run typecheck --output-logs=errors-only
# One package at a time: each test file already runs the model on both cores.
npx turbo run test --concurrency=1
