# The seed plan's own bash examples (communication-improvement-plan.md), run on agent-state's
# shell functions. Source it after the library:
#
#   source <(agent-state shell-functions)
#   source examples/seed-plan.sh
#   communication_backend_init
#   test_concurrent_writes 10 100
#
# Each read-modify-write of the plan is now race-free: one atomic `update` (the default), or
# the plan's lock/read/write/unlock with a real lease, or a transaction retried on CONFLICT.

# update_task_assignments AGENT_TYPE TASK_ID SESSION: records one assignment in the shared
# task_assignments map. The plan wrote the whole file from generate_task_assignment_data (last
# writer wins: lost updates); here the change is one atomic read-modify-write.
update_task_assignments() {
  local agent_type="$1" task_id="$2" session_name="$3"
  communication_backend_update "task_assignments" \
    '({ ...value, [args.agent + "/" + args.task]: { session: args.session, status: "assigned" } })' \
    agent="$agent_type" task="$task_id" session="$session_name" >/dev/null
}

# The same in the plan's Phase 1 shape: lock, read, append a line, write, unlock (a markdown
# list, as task_assignments.md was). Safe because the lock is a real lease held until unlock.
update_task_assignments_locked() {
  local agent_type="$1" task_id="$2" session_name="$3" current rc
  communication_backend_lock "task_assignments" 60 || return
  current=$(communication_backend_read "task_assignments_md")
  communication_backend_write "task_assignments_md" "${current:+${current}$'\n'}- ${agent_type} ${task_id} ${session_name}"
  rc=$?
  communication_backend_unlock "task_assignments" || return
  return $rc
}

# The same with the plan's transaction functions: begin, read, write, commit; a commit that
# finds the list changed since it was read returns CONFLICT (13; its stderr line says so) and
# is simply run again.
update_task_assignments_tx() {
  local agent_type="$1" task_id="$2" session_name="$3" current rc
  for ((attempt = 1; attempt <= 200; attempt++)); do
    communication_backend_transaction_begin 2>/dev/null || return
    current=$(communication_backend_read "task_assignments_tx")
    if ! communication_backend_write "task_assignments_tx" "${current:+${current}$'\n'}- ${agent_type} ${task_id} ${session_name}"; then
      communication_backend_transaction_rollback
      return 1
    fi
    communication_backend_transaction_commit && return 0
    rc=$?
    ((rc == AGENT_STATE_EXIT_CONFLICT)) || return $rc
  done
  return "$AGENT_STATE_EXIT_CONFLICT"
}

# validate_task_assignments_consistency EXPECTED: every assignment made is there, exactly once.
validate_task_assignments_consistency() {
  local expected="$1" found
  found=$(communication_backend_read "task_assignments" | grep -o '"status":"assigned"' | wc -l)
  if ((found != expected)); then
    echo "INCONSISTENT: expected ${expected} task assignments, found ${found}" >&2
    return 1
  fi
  echo "OK: ${found} task assignments"
}

# validate_lines KEY EXPECTED: the markdown list under KEY has EXPECTED distinct lines.
validate_lines() {
  local key="$1" expected="$2" found
  found=$(communication_backend_read "$key" | sort -u | grep -c '^- ')
  if ((found != expected)); then
    echo "INCONSISTENT: expected ${expected} lines in ${key}, found ${found}" >&2
    return 1
  fi
  echo "OK: ${found} lines in ${key}"
}

# enqueue_command AGENT_TYPE COMMAND [PRIORITY]: the plan's queue, without its lock dance.
enqueue_command() {
  local agent_type="$1" command="$2" priority="${3:-normal}" out
  out=$(communication_backend_enqueue "agent_commands_${agent_type}" "$command" "$priority") || return
  [[ $out =~ \"sequence\":([0-9]+) ]]
  echo "Command enqueued with sequence ${BASH_REMATCH[1]}"
}

# dequeue_command AGENT_TYPE: prints the highest-priority, oldest command and removes it
# (at-most-once, as the plan's `rm "$cmd_file"`); returns 1 when there is none.
dequeue_command() {
  local agent_type="$1"
  communication_backend_dequeue "agent_commands_${agent_type}" || return 1
  communication_backend_ack || return
  printf '%s\n' "$AGENT_STATE_JOB_PAYLOAD"
}

# test_concurrent_writes [PROCESSES] [OPERATIONS] [FUNCTION]: the plan's stress test. Runs
# PROCESSES background loops of OPERATIONS calls of FUNCTION (default update_task_assignments)
# and fails if any call failed.
test_concurrent_writes() {
  local num_processes="${1:-10}" operations_per_process="${2:-100}" fn="${3:-update_task_assignments}"
  local pids=() i failed=0
  for ((i = 1; i <= num_processes; i++)); do
    (
      for ((j = 1; j <= operations_per_process; j++)); do
        "$fn" "test_agent_$i" "task_$j" "session_$i" || { echo "FAILED: $fn test_agent_$i task_$j (exit $?)" >&2; exit 1; }
      done
    ) &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || failed=1; done
  return $failed
}

# test_concurrent_increments [PROCESSES] [OPERATIONS] [KEY]: PROCESSES × OPERATIONS atomic
# increments of one counter; prints the final count.
test_concurrent_increments() {
  local num_processes="${1:-10}" operations_per_process="${2:-100}" key="${3:-counter}"
  local pids=() i failed=0
  for ((i = 1; i <= num_processes; i++)); do
    (
      for ((j = 1; j <= operations_per_process; j++)); do
        communication_backend_increment "$key" >/dev/null || exit 1
      done
    ) &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || failed=1; done
  communication_backend_read "$key"
  return $failed
}
