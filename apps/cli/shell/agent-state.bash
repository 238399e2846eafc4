# agent-state shell functions: the seed plan's communication_backend_* interface on agent-state.
#
#   source <(agent-state shell-functions)
#   communication_backend_init
#
# Every function runs the `agent-state` CLI, which reads project.yml (cwd upward, or
# AGENT_STATE_CONFIG) and honours COMMUNICATION_BACKEND, so the same script runs on file,
# sqlite, redis or firebase. Return codes are the CLI's exit codes (AGENT_STATE_EXIT_* above):
# 0 ok, 1 not found, 2 usage, 10+ one per error code (13 = CONFLICT, 14 = LOCK_TIMEOUT ...).
# Errors go to stderr on one line; stdout carries only data.
#
# The header printed above this text defines _AGENT_STATE_CMD (how to run the CLI) and the
# AGENT_STATE_EXIT_* codes.

# Runs the CLI (with --config when AGENT_STATE_CONFIG is set).
agent_state() {
  if [[ -n "${AGENT_STATE_CONFIG:-}" ]]; then
    "${_AGENT_STATE_CMD[@]}" --config "$AGENT_STATE_CONFIG" "$@"
  else
    "${_AGENT_STATE_CMD[@]}" "$@"
  fi
}

# communication_backend_init: checks the backend answers (like the plan's `redis-cli ping`)
# and remembers which store this is, so lease files of different stores never mix.
communication_backend_init() {
  local report
  report=$(agent_state health) || return
  if [[ $report =~ \"storeId\":\"([0-9a-f]+)\" ]]; then
    export AGENT_STATE_STORE_ID="${BASH_REMATCH[1]}"
  fi
  local backend=unknown
  [[ $report =~ \"backend\":\"([a-z]+)\" ]] && backend="${BASH_REMATCH[1]}"
  echo "agent-state: ${backend} backend initialized" >&2
}

# communication_backend_read KEY: prints the value (a string as is, anything else as JSON);
# returns 1 when the key does not exist. Inside a transaction, the read is recorded.
communication_backend_read() {
  local key="$1"
  if [[ -n "${AGENT_STATE_TX:-}" ]]; then
    agent_state tx read --raw -- "$AGENT_STATE_TX" "$key"
  else
    agent_state get --raw -- "$key"
  fi
}

# communication_backend_write KEY VALUE [TTL_SECONDS]: stores VALUE as text, exactly (it is
# passed on stdin, so any size and leading dashes are fine). Inside a transaction, buffered.
communication_backend_write() {
  local key="$1" value="$2" ttl="${3:-0}"
  local opts=(--string)
  [[ "$ttl" != 0 ]] && opts+=(--ttl "${ttl}s")
  if [[ -n "${AGENT_STATE_TX:-}" ]]; then
    agent_state tx write "${opts[@]}" -- "$AGENT_STATE_TX" "$key" - <<<"$value"
  else
    agent_state set "${opts[@]}" -- "$key" - <<<"$value"
  fi
}

# communication_backend_write_json KEY JSON [TTL_SECONDS]: stores a JSON value (numbers,
# objects ...), so `communication_backend_increment` and `--expr` see real types.
communication_backend_write_json() {
  local key="$1" value="$2" ttl="${3:-0}"
  local opts=()
  [[ "$ttl" != 0 ]] && opts+=(--ttl "${ttl}s")
  if [[ -n "${AGENT_STATE_TX:-}" ]]; then
    agent_state tx write "${opts[@]}" -- "$AGENT_STATE_TX" "$key" - <<<"$value"
  else
    agent_state set "${opts[@]}" -- "$key" - <<<"$value"
  fi
}

# communication_backend_delete KEY
communication_backend_delete() {
  if [[ -n "${AGENT_STATE_TX:-}" ]]; then
    agent_state tx delete -- "$AGENT_STATE_TX" "$1"
  else
    agent_state delete -- "$1"
  fi
}

# communication_backend_update KEY EXPR [NAME=VALUE ...]: atomic read-modify-write, retried on
# conflict; EXPR is a JavaScript expression over `value` (null when absent) and `args` (the
# NAME=VALUE pairs, so shell data is never spliced into code). Prints the new value.
communication_backend_update() {
  local key="$1" expr="$2"
  shift 2 || { echo "agent-state: USAGE: communication_backend_update KEY EXPR [NAME=VALUE ...]" >&2; return 2; }
  local opts=(--raw --expr "$expr") pair
  for pair in "$@"; do opts+=(--arg "$pair"); done
  agent_state update "${opts[@]}" -- "$key"
}

# communication_backend_increment KEY [BY]: atomic; prints the new number.
communication_backend_increment() {
  agent_state incr -- "$1" "${2:-1}"
}

# communication_backend_list [PREFIX]: the keys under PREFIX, one per line.
communication_backend_list() {
  agent_state list --keys -- ${1:+"$1"}
}

# Where a held lease is published for an unlock from another shell.
_agent_state_lease_file() {
  local dir="${AGENT_STATE_LOCK_DIR:-${TMPDIR:-/tmp}/agent-state-${UID}/${AGENT_STATE_STORE_ID:-default}}"
  mkdir -p "$dir" || return
  local resource="$1"
  printf '%s/%s.lease' "$dir" "${resource//\//%2F}"
}

declare -gA _AGENT_STATE_LOCKS=()

# communication_backend_lock RESOURCE [TIMEOUT_SECONDS] [TTL_SECONDS]: waits up to TIMEOUT
# (default 30 s) for the lock, then returns 0 with the lock held by a background holder process
# that extends its lease every TTL/3 until communication_backend_unlock, or until this shell
# exits (like a flock dies with its file descriptor). Returns 14 (LOCK_TIMEOUT) if busy.
# AGENT_STATE_LOCK_TOKEN/OWNER/RESOURCE are set to the lease (fencing token included).
communication_backend_lock() {
  local resource="$1" timeout="${2:-30}" ttl="${3:-}"
  if [[ -z "$resource" ]]; then
    echo "agent-state: USAGE: communication_backend_lock RESOURCE [TIMEOUT_SECONDS] [TTL_SECONDS]" >&2
    return 2
  fi
  local file me="$BASHPID" fd pid line
  # A subshell inherits the parent's table; only a record made by this very process counts.
  if [[ "${_AGENT_STATE_LOCKS[$resource]:-}" == "$me "* ]]; then
    echo "agent-state: USAGE: this shell already holds the lock ${resource}" >&2
    return 2
  fi
  file=$(_agent_state_lease_file "$resource") || return
  local opts=(--hold --wait "${timeout}s" --watch-pid "$me" --lease-file "$file")
  [[ -n "$ttl" ]] && opts+=(--ttl "${ttl}s")
  exec {fd}< <(exec "${_AGENT_STATE_CMD[@]}" ${AGENT_STATE_CONFIG:+--config "$AGENT_STATE_CONFIG"} lock "${opts[@]}" -- "$resource" </dev/null)
  pid=$!
  if ! IFS= read -r -u "$fd" line || [[ "$line" != "ok "* ]]; then
    exec {fd}<&-
    wait "$pid"
    local rc=$?
    return $(( rc == 0 ? 70 : rc ))
  fi
  local holder token owner
  read -r holder token owner <<<"${line#ok }"
  _AGENT_STATE_LOCKS[$resource]="$me $fd $pid $token $owner"
  AGENT_STATE_LOCK_RESOURCE="$resource" AGENT_STATE_LOCK_TOKEN="$token" AGENT_STATE_LOCK_OWNER="$owner"
  return 0
}

# communication_backend_unlock RESOURCE: releases exactly the lease this shell took (the holder
# releases by owner + token, so a lease that expired and was taken over is never freed: that
# returns 15, LOCK_LOST). From another shell, it finds the holder through the lease file.
communication_backend_unlock() {
  local resource="$1" record="${_AGENT_STATE_LOCKS[$1]:-}"
  if [[ "$record" == "$BASHPID "* ]]; then
    local me fd pid token owner line=""
    read -r me fd pid token owner <<<"$record"
    unset '_AGENT_STATE_LOCKS[$resource]'
    [[ "${AGENT_STATE_LOCK_RESOURCE:-}" == "$resource" ]] && unset AGENT_STATE_LOCK_RESOURCE AGENT_STATE_LOCK_TOKEN AGENT_STATE_LOCK_OWNER
    kill -TERM "$pid" 2>/dev/null
    IFS= read -r -u "$fd" line
    exec {fd}<&-
    wait "$pid"
    return
  fi
  local file holder token owner
  file=$(_agent_state_lease_file "$resource") || return
  if ! read -r holder token owner <"$file" 2>/dev/null; then
    echo "agent-state: LOCK_LOST: no lease of ${resource} is held here" >&2
    return "$AGENT_STATE_EXIT_LOCK_LOST"
  fi
  kill -TERM "$holder" 2>/dev/null
  while kill -0 "$holder" 2>/dev/null; do sleep 0.01; done
  # The holder removes the file only after releasing its lease.
  if [[ -f "$file" ]] && [[ "$(cat "$file" 2>/dev/null)" == "$holder $token $owner" ]]; then
    echo "agent-state: LOCK_LOST: the holder of ${resource} ended without releasing it" >&2
    return "$AGENT_STATE_EXIT_LOCK_LOST"
  fi
  return 0
}

# communication_backend_transaction_begin: starts a transaction (stored in the state store, so
# it survives between commands); until commit/rollback, _read records versions and
# _write/_delete are buffered. The id is in AGENT_STATE_TX.
communication_backend_transaction_begin() {
  if [[ -n "${AGENT_STATE_TX:-}" ]]; then
    echo "agent-state: USAGE: transaction ${AGENT_STATE_TX} is already active" >&2
    return 2
  fi
  local id
  id=$(agent_state tx begin) || return
  AGENT_STATE_TX="$id"
  echo "Transaction ${id} started" >&2
}

# communication_backend_transaction_commit: applies every buffered write atomically if nothing
# it read has changed; else returns 13 (CONFLICT) and writes nothing. Either way it is over.
communication_backend_transaction_commit() {
  local id="${AGENT_STATE_TX:-}"
  if [[ -z "$id" ]]; then
    echo "agent-state: USAGE: no active transaction" >&2
    return 2
  fi
  unset AGENT_STATE_TX
  agent_state tx commit -- "$id"
}

# communication_backend_transaction_rollback: discards the transaction.
communication_backend_transaction_rollback() {
  local id="${AGENT_STATE_TX:-}"
  if [[ -z "$id" ]]; then
    echo "agent-state: USAGE: no active transaction" >&2
    return 2
  fi
  unset AGENT_STATE_TX
  agent_state tx rollback -- "$id"
}

# communication_backend_enqueue QUEUE PAYLOAD [PRIORITY]: PRIORITY is high, normal (default),
# low or a number; prints {"id":...,"sequence":...}.
communication_backend_enqueue() {
  local queue="$1" payload="$2" priority="${3:-normal}"
  agent_state queue push --string --priority "$priority" -- "$queue" - <<<"$payload"
}

# communication_backend_dequeue QUEUE [LEASE_SECONDS]: claims the next job (highest priority,
# then oldest) for LEASE seconds (default 60) and sets AGENT_STATE_JOB_ID, AGENT_STATE_JOB_LEASE
# and AGENT_STATE_JOB_PAYLOAD; returns 1 when the queue is empty. Settle it with
# communication_backend_ack (or _nack); unacked, it comes back after its lease (at-least-once).
communication_backend_dequeue() {
  local queue="$1" lease="${2:-60}" out
  out=$(agent_state queue pop --shell --lease "${lease}s" -- "$queue" && printf x) || return
  out="${out%x}"
  local head="${out%%$'\n'*}"
  AGENT_STATE_JOB_QUEUE="$queue"
  read -r AGENT_STATE_JOB_ID AGENT_STATE_JOB_LEASE _ <<<"$head"
  AGENT_STATE_JOB_PAYLOAD="${out#*$'\n'}"
  AGENT_STATE_JOB_PAYLOAD="${AGENT_STATE_JOB_PAYLOAD%$'\n'}"
}

# communication_backend_ack [QUEUE JOB_ID LEASE_ID]: removes the job (default: the last dequeued).
communication_backend_ack() {
  agent_state queue ack -- "${1:-$AGENT_STATE_JOB_QUEUE}" "${2:-$AGENT_STATE_JOB_ID}" "${3:-$AGENT_STATE_JOB_LEASE}"
}

# communication_backend_nack [QUEUE JOB_ID LEASE_ID]: gives the job back at once.
communication_backend_nack() {
  agent_state queue nack -- "${1:-$AGENT_STATE_JOB_QUEUE}" "${2:-$AGENT_STATE_JOB_ID}" "${3:-$AGENT_STATE_JOB_LEASE}"
}

# communication_backend_queue_size QUEUE
communication_backend_queue_size() {
  agent_state queue size -- "$1"
}

# communication_backend_publish CHANNEL MESSAGE
communication_backend_publish() {
  agent_state publish --string -- "$1" - <<<"$2" >/dev/null
}

# communication_backend_subscribe CHANNEL CALLBACK: calls CALLBACK MESSAGE for every message
# published from now on, until interrupted (one line per message: keep messages single-line).
communication_backend_subscribe() {
  local channel="$1" callback="$2" message
  while IFS= read -r message; do
    "$callback" "$message"
  done < <(agent_state subscribe --raw -- "$channel")
}

# communication_backend_health: prints the backend's health report (JSON).
communication_backend_health() {
  agent_state health
}
