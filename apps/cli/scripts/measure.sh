#!/usr/bin/env bash
# Rough cost of one `agent-state get` (process start included) and of one `batch` request,
# against `cat` of a file and `redis-cli GET`. Not a benchmark (see packages/bench): a loop
# timed with date +%s%N. Usage: scripts/measure.sh [RUNS] [BATCH_REQUESTS]
set -euo pipefail
runs="${1:-20}" requests="${2:-2000}"
bin="$(cd "$(dirname "$0")/.." && pwd)/dist/bin.js"
dir=$(mktemp -d)
trap 'rm -rf "$dir"; redis-cli DEL agent-state-measure >/dev/null 2>&1 || true' EXIT
cd "$dir"

per_call() { # LABEL COUNT COMMAND...: mean ms per run of COMMAND
  local label="$1" n="$2" start end
  shift 2
  start=$(date +%s%N)
  for ((i = 0; i < n; i++)); do "$@" >/dev/null; done
  end=$(date +%s%N)
  awk -v l="$label" -v t=$((end - start)) -v n="$n" 'BEGIN { printf "%-44s %9.3f ms\n", l, t / n / 1e6 }'
}

echo '{"status":"assigned"}' > value.json
per_call "cat FILE" $((runs * 10)) cat value.json
if redis-cli PING >/dev/null 2>&1; then
  redis-cli SET agent-state-measure '{"status":"assigned"}' >/dev/null
  per_call "redis-cli GET" $((runs * 10)) redis-cli GET agent-state-measure
fi
per_call "node -e 0 (bare node start)" "$runs" node -e 0
per_call "agent-state --version (start, commander)" "$runs" node "$bin" --version

for backend in file sqlite redis; do
  case $backend in
    file) settings='    directory: ./state' ;;
    sqlite) settings='    database_path: ./state.db' ;;
    redis) redis-cli PING >/dev/null 2>&1 || continue; settings='    redis_port: 6379' ;;
  esac
  printf 'communication:\n  backend: %s\n  namespace: measure-%s\n  settings:\n%s\n' "$backend" "$$" "$settings" > project.yml
  node "$bin" set k '{"status":"assigned"}'
  per_call "agent-state get ($backend)" "$runs" node "$bin" get k
  seq "$requests" | sed 's/.*/{"op":"get","key":"k"}/' > requests.jsonl
  start=$(date +%s%N)
  node "$bin" batch < requests.jsonl >/dev/null
  end=$(date +%s%N)
  awk -v l="batch get ($backend), per request" -v t=$((end - start)) -v n="$requests" 'BEGIN { printf "%-44s %9.3f ms\n", l, t / n / 1e6 }'
  node "$bin" delete k
done
