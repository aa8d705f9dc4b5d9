#!/usr/bin/env bash
# `npm test`: type check, unit, integration (workerd pool) and end-to-end tests, failing fast.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false WRANGLER_HIDE_BANNER=true

started=$SECONDS
ran=()
skipped=()

current="setup"

stage() { current=$*; printf '\n\033[1m==> %s\033[0m\n' "$*"; }

peers_file=""
stop_peers() {
  if [[ -n $peers_file ]]; then
    node scripts/peers/peers.mjs stop "$peers_file" || true
    peers_file=""
  fi
}

on_exit() {
  local rc=$?
  stop_peers
  if ((rc != 0)); then
    printf '\n\033[1;31mnpm test FAILED\033[0m at: %s (exit %d); passed before it: %s (%ss)\n' \
      "$current" "$rc" "${ran[*]:-none}" "$((SECONDS - started))" >&2
  fi
}
trap on_exit EXIT

# Install dependencies when node_modules is missing or older than the lockfile.
if [[ -f package-lock.json ]]; then
  if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    stage "npm ci"
    npm ci
  fi
elif [[ ! -d node_modules ]]; then
  stage "npm install (no package-lock.json)"
  npm install
fi

stage "type check: tsc -p worker, tsc -p infra, tsc -p scripts/config"
npx tsc -p worker
npx tsc -p infra
npx tsc -p scripts/config
ran+=("typecheck")

run_vitest() {
  local name=$1 config=$2
  if [[ ! -f $config ]]; then
    stage "$name: skipped ($config does not exist yet)"
    skipped+=("$name")
    return 0
  fi
  stage "$name: vitest run --config $config"
  local out
  out=$(mktemp)
  npx vitest run --config "$config" 2>&1 | tee "$out"
  # vitest's own summary line, e.g. "Tests  284 passed (284)" or "Tests  649 passed | 13 skipped (662)"
  local line
  line=$(sed -E 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^\s*Tests\s' | tail -n 1)
  passed=$((passed + $(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)))
  skipped_tests=$((skipped_tests + $(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || echo 0)))
  rm -f "$out"
  ran+=("$name")
}
passed=0
skipped_tests=0

run_vitest "unit" worker/vitest.unit.config.ts
# config:check on fixture programs, config:plan's diff, the CI workflow (tests/config/)
run_vitest "config" tests/config/vitest.config.ts
run_vitest "integration" worker/vitest.workers.config.ts
# The Pulumi program on a mock monitor (no engine), its bundle under Miniflare, wrangler's dry run.
run_vitest "infra" infra/vitest.config.ts
# The real peers of the sink destinations (moto, Pub/Sub emulator, RabbitMQ — apt-installed when missing —
# and the Kafka REST contract fake), started once for the peer and e2e stages and stopped by PID.
stage "peers: start (scripts/peers/peers.mjs)"
peers_file=$(mktemp -t hookstream-peers-XXXXXX.json)
node scripts/peers/peers.mjs start "$peers_file"
export HOOKSTREAM_PEERS_FILE=$peers_file

run_vitest "peers" worker/vitest.peers.config.ts
run_vitest "e2e" tests/e2e/vitest.config.ts
stop_peers

summary="passed: ${ran[*]}"
if ((${#skipped[@]})); then summary+="; skipped (no config): ${skipped[*]}"; fi
printf '\n\033[1;32mnpm test OK\033[0m — %s (%ss)\n' "$summary" "$((SECONDS - started))"
# The plain closing line CI reads: every stage above stops the script on its first failure.
printf 'tests: %d passed, 0 failed, %d skipped\n' "$passed" "$skipped_tests"
