#!/usr/bin/env bash
# Every test tier, in the order a failure is cheapest to find.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
npx jest --ci --selectProjects unit
