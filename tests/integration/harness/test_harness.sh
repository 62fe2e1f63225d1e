#!/usr/bin/env bash
# Integration test of tests/harness/harness.sh itself, with a nested harness of its own
# (so it never disturbs the servers other tests use): the three servers answer, a
# restart keeps port and data, and teardown leaves no process or temp dir behind —
# after a normal exit, a crashing command, a command killed by a signal, and a
# SIGKILLed harness (the watchdog's job).
set -uo pipefail
HARNESS=${1:?usage: test_harness.sh path/to/harness.sh}
fails=0
check() { # description command...
    if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
TMPDIR=$(mktemp -d /tmp/venta-harness-test.XXXXXX)
chmod 755 "$TMPDIR" # the postgres user must reach its data dir
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT

no_leftovers() { # no harness dir and no server process from our TMPDIR
    local i
    for i in $(seq 1 150); do
        if ! compgen -G "$TMPDIR/venta-harness.*" >/dev/null &&
            ! pgrep -f -- "$TMPDIR/venta-harness" >/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    ls -la "$TMPDIR" >&2
    pgrep -af -- "$TMPDIR/venta-harness" >&2
    return 1
}

# 1. Servers answer; restart keeps data; a stopped server is reported down.
inner=$(
    cat <<'INNER'
set -e
psql -X -qAt "$VENTA_TEST_DATABASE_URL" -c "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)"
[ "$(psql -X -qAt "$VENTA_TEST_DATABASE_URL" -c 'SELECT postgis_version() IS NOT NULL')" = t ]
[ "$(redis-cli -u "$VENTA_TEST_REDIS_URL" ping)" = PONG ]
nats_port=${VENTA_TEST_NATS_URL##*:}
exec 3<>"/dev/tcp/127.0.0.1/$nats_port"; read -r -t 5 info <&3; exec 3>&-
[[ $info == INFO* ]]
"$VENTA_HARNESS" restart postgres
[ "$(psql -X -qAt "$VENTA_TEST_DATABASE_URL" -c 'SELECT x FROM kept')" = 42 ]
"$VENTA_HARNESS" stop redis
! redis-cli -u "$VENTA_TEST_REDIS_URL" ping >/dev/null 2>&1
"$VENTA_HARNESS" start redis
[ "$(redis-cli -u "$VENTA_TEST_REDIS_URL" ping)" = PONG ]
"$VENTA_HARNESS" restart nats
exec 3<>"/dev/tcp/127.0.0.1/$nats_port"; exec 3>&-
echo inner-done
INNER
)
out=$(bash "$HARNESS" run -- bash -c "$inner" 2>&1)
check "servers answer, restart keeps data, stop/start work" grep -q inner-done <<<"$out"
[[ $out == *inner-done* ]] || echo "$out" >&2
check "no leftovers after a normal run" no_leftovers

# 2. The command's exit status is the harness's.
bash "$HARNESS" run -- bash -c 'exit 7' >/dev/null 2>&1
check "exit status is passed through" test $? -eq 7

# 3. A crashing command (SIGSEGV) and a killed one (SIGKILL) leave nothing behind.
bash "$HARNESS" run -- bash -c 'kill -SEGV $$' >/dev/null 2>&1
check "no leftovers after the command crashed" no_leftovers
bash "$HARNESS" run -- bash -c 'kill -KILL $$' >/dev/null 2>&1
check "no leftovers after the command was killed" no_leftovers

# 4. A harness stopped by SIGTERM (a timeout) tears down; one SIGKILLed is swept.
bash "$HARNESS" run -- sleep 60.0917 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do compgen -G "$TMPDIR/venta-harness.*/nats.pid" >/dev/null && break; sleep 0.1; done
sleep 0.5
kill -TERM "$pid"
wait "$pid" 2>/dev/null
pkill -f "sleep 60.0917" 2>/dev/null
check "no leftovers after the harness got SIGTERM" no_leftovers

bash "$HARNESS" run -- sleep 61.0917 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do compgen -G "$TMPDIR/venta-harness.*/nats.pid" >/dev/null && break; sleep 0.1; done
sleep 0.5
kill -KILL "$pid"
pkill -f "sleep 61.0917" 2>/dev/null
wait "$pid" 2>/dev/null
sleep 1.5 # the watchdog polls once a second
check "no leftovers after the harness was SIGKILLed" no_leftovers

echo "$fails failed"
exit $((fails > 0))
