#!/usr/bin/env bash
# test_supervise.sh SOURCE_ROOT — scripts/lib/supervise.sh, the restarts behind
# `scripts/run --keep-going`, on real processes: a crashing command comes back with
# backoff, SIGTERM stops the supervisor and reaches its child, and a dead server is
# started again from its start function.
set -uo pipefail
SRC=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/venta-supervise.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
log() { printf '%s\n' "$*" >>"$dir/supervisor.log"; }
die() { log "$*"; exit 1; }
# shellcheck source=../../../scripts/lib/servers.sh
source "$SRC/scripts/lib/servers.sh"
# shellcheck source=../../../scripts/lib/supervise.sh
source "$SRC/scripts/lib/supervise.sh"
SUPERVISE_BACKOFF_MAX=1

failed=0 passed=0
check() { # condition-exit-status description
    if (($1 == 0)); then passed=$((passed + 1)); echo "ok   $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi
}
wait_for() { # seconds command...
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do ((SECONDS >= deadline)) && return 1; sleep 0.1; done
}
count() { [[ -f $1 ]] && wc -l <"$1" || echo 0; }

# 1. A command that keeps crashing is run again, with the exit status logged.
supervise crasher bash -c "echo run >>'$dir/runs'; exit 3" &
sup=$!
runs_at_least() { (($(count "$dir/runs") >= $1)); }
wait_for 10 runs_at_least 3
check $? "a crashing command is started again (runs: $(count "$dir/runs"))"
grep -q "crasher exited (status 3); restarting it in" "$dir/supervisor.log"
check $? "each exit is logged with its status"
kill -TERM "$sup"
wait_for 5 bash -c "! kill -0 $sup 2>/dev/null"
check $? "SIGTERM stops the supervisor"
before=$(count "$dir/runs")
sleep 1.5
check $(("$(count "$dir/runs")" != before)) "nothing is started after it stopped"

# 2. SIGTERM reaches a running child, which may finish its shutdown.
supervise worker bash -c "trap 'echo term >>\"$dir/child\"; exit 0' TERM; echo up >>\"$dir/child\"; while :; do sleep 0.1; done" &
sup=$!
wait_for 10 grep -qs up "$dir/child"
check $? "the child runs"
kill -TERM "$sup"
wait_for 5 bash -c "! kill -0 $sup 2>/dev/null"
check $? "the supervisor exits after its child"
grep -q term "$dir/child"
check $? "the child got SIGTERM"
check "$(($(grep -c up "$dir/child") != 1))" "a child stopped by SIGTERM is not started again"

# 3. A server that dies is started again by its start function.
echo 0 >"$dir/fake.port"
start_fake() { launch fake sleep 1000; }
start_fake
first=$(cat "$dir/fake.pid")
keep_servers_up fake &
keeper=$!
kill -KILL "$first" 2>/dev/null
wait_for 10 bash -c "p=\$(cat '$dir/fake.pid'); [[ \$p != $first ]] && kill -0 \$p 2>/dev/null"
check $? "a killed server is started again"
grep -q "fake is not running; starting it again" "$dir/supervisor.log"
check $? "the restart is logged"
kill "$keeper" 2>/dev/null
kill -KILL "$(cat "$dir/fake.pid")" 2>/dev/null
wait 2>/dev/null

echo "$passed passed, $failed failed"
((failed == 0))
