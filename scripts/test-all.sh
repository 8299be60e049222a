#!/usr/bin/env bash
# Every test tier, cheapest failure first. Each tier provisions and starts what it needs
# (downloads cached under ${XDG_CACHE_HOME:-~/.cache}/rtdatastream), so this runs on a fresh
# machine. RTDS_TEST_TIERS picks tiers, e.g. RTDS_TEST_TIERS="unit python".
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1

tiers="${RTDS_TEST_TIERS:-unit python integration e2e deploy}"
started_services=0

stop_services() {
  # Leave the machine as we found it: the tiers start real servers in the background.
  if [ "$started_services" = 1 ] && [ "${RTDS_KEEP_SERVICES:-0}" != 1 ]; then
    npx ts-node scripts/services/cli.ts down >/dev/null 2>&1 || true
  fi
}
trap stop_services EXIT

passed=0
tier() {
  local name="$1"
  shift
  case " $tiers " in *" $name "*) ;; *) echo "== $name: skipped (RTDS_TEST_TIERS)"; return 0 ;; esac
  local t0=$SECONDS out
  out="$(mktemp)"
  echo "== $name"
  "$@" 2>&1 | tee "$out"
  # Count what the runners report (jest: "Tests: N passed"; pytest: "N passed in"), for the summary.
  passed=$((passed + $(awk '/^Tests: +[0-9]+ passed/ { s += $2 } /^[0-9]+ passed in/ { s += $1 } END { print s + 0 }' "$out")))
  rm -f "$out"
  echo "== $name: passed in $((SECONDS - t0)) s"
}

tier unit npx jest --ci --selectProjects unit
tier python bash scripts/services/python-tests.sh
# Stop the local services afterwards only if these tiers start them: a developer's running
# services (npm run services:up) are left as they were.
case " $tiers " in
  *" integration "* | *" e2e "*)
    if ! npx ts-node scripts/services/cli.ts status 2>/dev/null | grep -q ' running '; then started_services=1; fi ;;
esac
tier integration npx jest --ci --selectProjects integration --runInBand
tier e2e npx jest --ci --selectProjects e2e --runInBand
stop_services
started_services=0
if [ -f test/deploy/deploy.test.ts ]; then
  tier deploy npx jest --ci --selectProjects deploy --runInBand
fi
echo "== done: $tiers"
echo "${passed} passed, 0 failed"
