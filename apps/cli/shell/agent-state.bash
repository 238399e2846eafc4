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

# How calls run. One long-lived `agent-state batch --serve` process per shell session (started
# by the first call, shared by every subshell, `$(...)` and `( ... ) &` of it) runs the calls, so
# a loop pays one Node start, not one per call. Requests go to its FIFO as single atomic writes;
# each shell process (by BASHPID) gets its replies on a FIFO of its own, so concurrent subshells
# never see each other's replies. It reads project.yml once: after `cd` to another project, or a
# change of COMMUNICATION_BACKEND or AGENT_STATE_CONFIG, the next call starts a new one. It ends
# by itself when every process that holds its FIFO has exited (a background job started from the
# shell holds it too). AGENT_STATE_NO_COPROC=1 runs every call as its own process instead.
# Commands that need the terminal, signals or a process of their own (lock, subscribe, log
# follow, batch) always run as their own process.

# _agent_state_servable STDIN_OK ARGS...: true when ARGS can run in the coprocess (not: the
# commands above, nor `-` for this shell's stdin unless STDIN_OK, when the text comes in a file).
_agent_state_servable() {
  local a skip="" stdin_ok="$1"
  shift
  for a in "$@"; do
    if [[ -n $skip ]]; then skip=""; continue; fi
    case $a in
      -c | --config) skip=1 ;;
      -*) ;;
      get | set | delete | list | update | incr | wait | repair | queue | publish | agents | health | tx) break ;;
      log) [[ " $* " != *" follow "* ]] && break; return 1 ;;
      *) return 1 ;;
    esac
  done
  [[ -n ${a:-} ]] || return 1
  [[ -n $stdin_ok ]] && return 0
  for a in "$@"; do [[ $a == - ]] && return 1; done
  return 0
}

# Makes sure this shell has a live coprocess for the current project; 1 when it cannot.
_agent_state_serving() {
  [[ -n "${AGENT_STATE_NO_COPROC:-}" ]] && return 1
  local key="$PWD|${COMMUNICATION_BACKEND-}|${AGENT_STATE_CONFIG-}"
  if [[ -n "${_AGENT_STATE_SRV_FD:-}" ]]; then
    [[ "$_AGENT_STATE_SRV_KEY" == "$key" ]] && kill -0 "$_AGENT_STATE_SRV_PID" 2>/dev/null && return 0
    exec {_AGENT_STATE_SRV_FD}>&-
    unset _AGENT_STATE_SRV_FD _AGENT_STATE_SRV_PID _AGENT_STATE_SRV_DIR _AGENT_STATE_SRV_KEY _AGENT_STATE_REPLY_PID
  fi
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/agent-state-coproc.XXXXXX") || return 1
  mkfifo -m 600 "$dir/requests" || return 1
  # Read-write: never blocks, and a write can never hit a pipe with no reader (SIGPIPE).
  exec {_AGENT_STATE_SRV_FD}<>"$dir/requests"
  # Started from a subshell, so it is no job of this shell (`wait` never waits for it), without
  # our end of its FIFO (it would never see the end of its input), and with its output in a log.
  _AGENT_STATE_SRV_PID=$(
    exec {_AGENT_STATE_SRV_FD}>&-
    [[ -n "${_AGENT_STATE_REPLY_FD:-}" ]] && exec {_AGENT_STATE_REPLY_FD}>&-
    "${_AGENT_STATE_CMD[@]}" ${AGENT_STATE_CONFIG:+--config "$AGENT_STATE_CONFIG"} batch --serve "$dir" </dev/null >/dev/null 2>>"$dir/log" &
    echo $!
  )
  _AGENT_STATE_SRV_DIR="$dir" _AGENT_STATE_SRV_KEY="$key"
  unset _AGENT_STATE_REPLY_PID
}

# _agent_state_request STDIN_FILE ARGS...: runs ARGS in the coprocess; sets _AGENT_STATE_OUT and
# _AGENT_STATE_ERR to what the command wrote and returns its exit code.
_agent_state_request() {
  if [[ "${_AGENT_STATE_REPLY_PID:-}" != "$BASHPID" ]]; then
    _AGENT_STATE_REPLY_PATH="$_AGENT_STATE_SRV_DIR/r.$BASHPID.$RANDOM"
    mkfifo -m 600 "$_AGENT_STATE_REPLY_PATH" || return 70
    exec {_AGENT_STATE_REPLY_FD}<>"$_AGENT_STATE_REPLY_PATH"
    _AGENT_STATE_REPLY_PID=$BASHPID
  fi
  local stdin="$1"
  shift
  printf '%s\0' "$_AGENT_STATE_REPLY_PATH" "$stdin" 3 "AGENT_STATE_LOCK_TOKEN=${AGENT_STATE_LOCK_TOKEN-}" \
    "AGENT_STATE_LOCK_OWNER=${AGENT_STATE_LOCK_OWNER-}" "AGENT_STATE_LOCK_RESOURCE=${AGENT_STATE_LOCK_RESOURCE-}" \
    "$#" "$@" >&"$_AGENT_STATE_SRV_FD"
  local first header status
  # The header is 28 bytes (`EXIT OUT_BYTES ERR_BYTES a|b`, fixed-width fields) in the same write
  # as the body: the wait is for its first byte (`read -t` makes two system calls per character
  # it reads), then the rest is read in one `read -N` (a line costs a system call per byte). Waits
  # as long as the command does (`wait`, `queue pop --wait`), but not for a dead coprocess.
  until IFS= read -r -t 5 -N 1 -u "$_AGENT_STATE_REPLY_FD" first; do
    status=$?
    if ((status <= 128)) || ! kill -0 "$_AGENT_STATE_SRV_PID" 2>/dev/null; then
      echo "agent-state: INTERNAL: the shell coprocess (pid ${_AGENT_STATE_SRV_PID}) ended; see ${_AGENT_STATE_SRV_DIR}/log" >&2
      exec {_AGENT_STATE_SRV_FD}>&-
      unset _AGENT_STATE_SRV_FD _AGENT_STATE_SRV_PID _AGENT_STATE_SRV_KEY _AGENT_STATE_REPLY_PID
      return 70
    fi
  done
  IFS= read -r -N 27 -u "$_AGENT_STATE_REPLY_FD" header
  header="$first$header"
  local out_bytes=$((${header:4:10})) body_bytes=$((${header:4:10} + ${header:15:10}))
  _AGENT_STATE_OUT="" _AGENT_STATE_ERR=""
  # stdout and stderr in one read. An all-ASCII body (`a`) has as many characters as bytes in any
  # locale; any other is read and split as bytes.
  if ((body_bytes > 0)); then
    if [[ ${header:26:1} == a ]]; then
      IFS= read -r -N "$body_bytes" -u "$_AGENT_STATE_REPLY_FD" _AGENT_STATE_OUT
      _AGENT_STATE_ERR="${_AGENT_STATE_OUT:out_bytes}" _AGENT_STATE_OUT="${_AGENT_STATE_OUT:0:out_bytes}"
    else
      _agent_state_bytes "$body_bytes" "$out_bytes"
    fi
  fi
  return $((${header:0:3}))
}

# _agent_state_bytes BODY_BYTES OUT_BYTES: reads the body as bytes whatever the locale.
_agent_state_bytes() {
  local LC_ALL=C
  IFS= read -r -N "$1" -u "$_AGENT_STATE_REPLY_FD" _AGENT_STATE_OUT
  _AGENT_STATE_ERR="${_AGENT_STATE_OUT:$2}" _AGENT_STATE_OUT="${_AGENT_STATE_OUT:0:$2}"
}

# _agent_state_capture STDIN_TEXT|'' ARGS...: runs the CLI (in the coprocess when it can); sets
# _AGENT_STATE_OUT, passes stderr through, returns the exit code. With STDIN_TEXT (its own
# argument, any size) the command reads it, plus a newline, as `-`.
_agent_state_capture() {
  local text="$1" has_stdin="$2"
  shift 2
  if _agent_state_servable "$has_stdin" "$@" && _agent_state_serving; then
    local file=""
    if [[ -n $has_stdin ]]; then
      file="$_AGENT_STATE_SRV_DIR/in.$BASHPID"
      printf '%s\n' "$text" >"$file" || return 70
    fi
    _agent_state_request "$file" ${AGENT_STATE_CONFIG:+--config "$AGENT_STATE_CONFIG"} "$@"
    local rc=$?
    [[ -n $_AGENT_STATE_ERR ]] && printf '%s' "$_AGENT_STATE_ERR" >&2
    return $rc
  fi
  local rc
  if [[ -n $has_stdin ]]; then
    _AGENT_STATE_OUT=$("${_AGENT_STATE_CMD[@]}" ${AGENT_STATE_CONFIG:+--config "$AGENT_STATE_CONFIG"} "$@" <<<"$text"; rc=$?; printf x; exit $rc)
  else
    _AGENT_STATE_OUT=$("${_AGENT_STATE_CMD[@]}" ${AGENT_STATE_CONFIG:+--config "$AGENT_STATE_CONFIG"} "$@"; rc=$?; printf x; exit $rc)
  fi
  rc=$?
  _AGENT_STATE_OUT="${_AGENT_STATE_OUT%x}"
  return $rc
}

# _agent_state_stdin TEXT ARGS...: runs ARGS (which take `-`) with TEXT on standard input.
_agent_state_stdin() {
  local text="$1"
  shift
  _agent_state_capture "$text" 1 "$@"
  local rc=$?
  [[ -n $_AGENT_STATE_OUT ]] && printf '%s' "$_AGENT_STATE_OUT"
  return $rc
}

# agent_state ARGS...: the CLI (with --config when AGENT_STATE_CONFIG is set), in the coprocess
# when the command can run there.
agent_state() {
  if _agent_state_servable "" "$@" && _agent_state_serving; then
    _agent_state_request "" ${AGENT_STATE_CONFIG:+--config "$AGENT_STATE_CONFIG"} "$@"
    local rc=$?
    [[ -n $_AGENT_STATE_OUT ]] && printf '%s' "$_AGENT_STATE_OUT"
    [[ -n $_AGENT_STATE_ERR ]] && printf '%s' "$_AGENT_STATE_ERR" >&2
    return $rc
  fi
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
  _agent_state_capture "" "" health || return
  report="$_AGENT_STATE_OUT"
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
    _agent_state_stdin "$value" tx write "${opts[@]}" -- "$AGENT_STATE_TX" "$key" -
  else
    _agent_state_stdin "$value" set "${opts[@]}" -- "$key" -
  fi
}

# communication_backend_write_json KEY JSON [TTL_SECONDS]: stores a JSON value (numbers,
# objects ...), so `communication_backend_increment` and `--expr` see real types.
communication_backend_write_json() {
  local key="$1" value="$2" ttl="${3:-0}"
  local opts=()
  [[ "$ttl" != 0 ]] && opts+=(--ttl "${ttl}s")
  if [[ -n "${AGENT_STATE_TX:-}" ]]; then
    _agent_state_stdin "$value" tx write "${opts[@]}" -- "$AGENT_STATE_TX" "$key" -
  else
    _agent_state_stdin "$value" set "${opts[@]}" -- "$key" -
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
  _agent_state_capture "" "" tx begin || return
  id="${_AGENT_STATE_OUT%$'\n'}"
  AGENT_STATE_TX="$id"
  echo "Transaction ${id} started" >&2
}

# Ends the active transaction with `tx commit` or `tx rollback`; either way it is over.
_agent_state_tx_end() {
  local id="${AGENT_STATE_TX:-}"
  if [[ -z "$id" ]]; then
    echo "agent-state: USAGE: no active transaction" >&2
    return 2
  fi
  unset AGENT_STATE_TX
  agent_state tx "$1" -- "$id"
}

# communication_backend_transaction_commit: applies every buffered write atomically if nothing
# it read has changed; else returns 13 (CONFLICT) and writes nothing. Either way it is over.
communication_backend_transaction_commit() {
  _agent_state_tx_end commit
}

# communication_backend_transaction_rollback: discards the transaction.
communication_backend_transaction_rollback() {
  _agent_state_tx_end rollback
}

# communication_backend_enqueue QUEUE PAYLOAD [PRIORITY]: PRIORITY is high, normal (default),
# low or a number; prints {"id":...,"sequence":...}.
communication_backend_enqueue() {
  local queue="$1" payload="$2" priority="${3:-normal}"
  _agent_state_stdin "$payload" queue push --string --priority "$priority" -- "$queue" -
}

# communication_backend_dequeue QUEUE [LEASE_SECONDS] [WAIT_SECONDS]: claims the next job
# (highest priority, then oldest) for LEASE seconds (default 60) and sets AGENT_STATE_JOB_ID,
# AGENT_STATE_JOB_LEASE and AGENT_STATE_JOB_PAYLOAD; with WAIT, blocks up to WAIT seconds for one
# (woken by the backend, no polling); returns 1 when there is none. Settle it with
# communication_backend_ack (or _nack); unacked, it comes back after its lease (at-least-once).
communication_backend_dequeue() {
  local queue="$1" lease="${2:-60}" wait="${3:-}" out
  _agent_state_capture "" "" queue pop --shell --lease "${lease}s" ${wait:+--wait "${wait}s"} -- "$queue" || return
  out="$_AGENT_STATE_OUT"
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
  _agent_state_stdin "$2" publish --string -- "$1" - >/dev/null
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

# communication_backend_wait KEY VERSION [TIMEOUT_SECONDS]: blocks until KEY's version is at
# least VERSION (woken by the backend, no polling) and prints its value; returns 20 (TIMEOUT)
# after TIMEOUT seconds (default 30).
communication_backend_wait() {
  agent_state wait --until-version "$2" --timeout "${3:-30}s" --value --raw -- "$1"
}

# communication_backend_log_append LOG LINE: appends LINE (text) to the append-only LOG (the
# plan's pipeline.log, progress.txt ...); prints nothing.
communication_backend_log_append() {
  _agent_state_stdin "$2" log append --string -- "$1" - >/dev/null
}

# communication_backend_log_read LOG [AFTER_SEQ]: prints LOG's records, one per line, oldest first.
communication_backend_log_read() {
  agent_state log read --record --raw ${2:+--after "$2"} -- "$1"
}

# communication_backend_log_follow LOG CALLBACK: calls CALLBACK LINE for every record appended
# from now on, until interrupted.
communication_backend_log_follow() {
  local log="$1" callback="$2" line
  while IFS= read -r line; do
    "$callback" "$line"
  done < <(agent_state log follow --record --raw -- "$log")
}

# communication_backend_repair KEY [--delete]: reports damage under KEY; with --delete removes
# the damaged entry (the only way past CORRUPT_DATA) and says on stderr what it replaced.
communication_backend_repair() {
  agent_state repair "${@:2}" -- "$1"
}
