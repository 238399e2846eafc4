#!/usr/bin/env bash
# Rough cost of one `agent-state get` (process start included) against a bare `node -e 0`
# (median of RUNS alternated runs, the issue's ratio), of one `batch` request, and of one call
# of the shell functions through their coprocess; `cat` and `redis-cli GET` for scale. Not a
# benchmark (packages/bench has the `cli` case): loops timed with date +%s%N.
# Usage: scripts/measure.sh [RUNS] [REQUESTS]
set -euo pipefail
runs="${1:-10}" requests="${2:-1000}"
bin="$(cd "$(dirname "$0")/.." && pwd)/dist/bin.js"
dir=$(mktemp -d)
cleanup() {
  rm -rf "$dir"
  if redis-cli PING >/dev/null 2>&1; then redis-cli --scan --pattern "*measure-$$*" | xargs -r redis-cli DEL >/dev/null; fi
}
trap cleanup EXIT
cd "$dir"

now() { date +%s%N; }
# median LABEL COMMAND...: median ms of RUNS runs of COMMAND, each right after a `node -e 0`,
# and the ratio of the two medians.
median() {
  local label="$1" a=() b=() s i
  shift
  for ((i = 0; i < runs; i++)); do
    s=$(now); node -e 0; a+=($(($(now) - s)))
    s=$(now); "$@" >/dev/null; b+=($(($(now) - s)))
  done
  local ma mb
  ma=$(printf '%s\n' "${a[@]}" | sort -n | sed -n "$((runs / 2 + 1))p")
  mb=$(printf '%s\n' "${b[@]}" | sort -n | sed -n "$((runs / 2 + 1))p")
  awk -v l="$label" -v a="$ma" -v b="$mb" 'BEGIN { printf "%-46s %8.1f ms  (%.2fx node -e 0 at %.1f ms)\n", l, b / 1e6, b / a, a / 1e6 }'
}
# per_call LABEL COUNT COMMAND...: mean ms per run of COMMAND
per_call() {
  local label="$1" n="$2" s i
  shift 2
  s=$(now)
  for ((i = 0; i < n; i++)); do "$@" >/dev/null; done
  awk -v l="$label" -v t=$(($(now) - s)) -v n="$n" 'BEGIN { printf "%-46s %8.3f ms\n", l, t / n / 1e6 }'
}

echo '{"status":"assigned"}' >value.json
per_call "cat FILE" $((runs * 10)) cat value.json
redis=""
if redis-cli PING >/dev/null 2>&1; then
  redis=1
  redis-cli SET agent-state-measure '{"status":"assigned"}' >/dev/null
  per_call "redis-cli GET" $((runs * 10)) redis-cli GET agent-state-measure
  redis-cli DEL agent-state-measure >/dev/null
fi
median "agent-state --version (node + commander)" node "$bin" --version

for backend in file sqlite redis; do
  case $backend in
    file) settings='    directory: ./state' ;;
    sqlite) settings='    database_path: ./state.db' ;;
    redis) [[ -n $redis ]] || continue; settings='    redis_port: 6379' ;;
  esac
  printf 'communication:\n  backend: %s\n  namespace: measure-%s\n  settings:\n%s\n' "$backend" "$$" "$settings" >project.yml
  node "$bin" set k '{"status":"assigned"}'
  median "agent-state get ($backend)" node "$bin" get k
  seq "$requests" | sed 's/.*/{"op":"incr","key":"n"}/' >requests.jsonl
  s=$(now)
  node "$bin" batch <requests.jsonl >/dev/null
  awk -v l="batch incr ($backend), per request" -v t=$(($(now) - s)) -v n="$requests" 'BEGIN { printf "%-46s %8.3f ms\n", l, t / n / 1e6 }'
  # The shell functions: one coprocess for the loop (its start included).
  out=$(bash -c "source <(node '$bin' shell-functions)
    s=\$(date +%s%N)
    for ((i = 0; i < $requests; i++)); do communication_backend_increment m >/dev/null || exit 1; done
    echo \$(( \$(date +%s%N) - s )) \$(communication_backend_read m)")
  read -r t count <<<"$out"
  awk -v l="shell increment ($backend), per call" -v t="$t" -v n="$requests" -v c="$count" 'BEGIN { printf "%-46s %8.3f ms  (count %d)\n", l, t / n / 1e6, c }'
  node "$bin" delete k
  node "$bin" delete n
  node "$bin" delete m
done
