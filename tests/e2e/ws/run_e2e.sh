#!/usr/bin/env bash
# run_e2e.sh BUILD_ROOT SOURCE_ROOT — the WebSocket edge end to end, against the real
# mesh: the harness's PostgreSQL, Redis and NATS, plus venta-migrate, venta-location,
# venta-vendor and four venta-ws-gateway processes on free ports (A, B, C; D is
# SIGKILLed by the checks). The checks themselves
# are ws_e2e.js, driving the gateways with the npm `ws` client. Everything started
# here is stopped on exit, failure included. Restarts NATS mid-run: not parallel.
set -euo pipefail
BUILD=$1
SRC=$2
: "${VENTA_TEST_PG_ADMIN_URL:?run under tests/harness/harness.sh run}"

work=$(mktemp -d "${TMPDIR:-/tmp}/venta-ws-e2e.XXXXXX")
pids=()
cleanup() {
    local rc=$?
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if ((rc != 0)); then
        for f in "$work"/*.log; do echo "---- $f (tail)"; tail -20 "$f"; done
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

free_port() { "$BUILD/tests/harness/free-port" 1; }
wait_port() { # port what
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "$2 did not open port $1" >&2
    return 1
}

db="venta_ws_e2e_$$"
psql -X -q -v ON_ERROR_STOP=1 "$VENTA_TEST_PG_ADMIN_URL" \
    -c "CREATE DATABASE $db TEMPLATE ${VENTA_TEST_PG_TEMPLATE:-venta_template}" >/dev/null
export VENTA_DATABASE_URL=${VENTA_TEST_PG_ADMIN_URL%/*}/$db
export VENTA_NATS_URL=$VENTA_TEST_NATS_URL
export VENTA_REDIS_URL=$VENTA_TEST_REDIS_URL
export VENTA_LOG_LEVEL=${VENTA_LOG_LEVEL:-warn}
VENTA_MIGRATIONS_DIR=$SRC/prisma-free-sql "$BUILD/apps/migrate/venta-migrate" >"$work/migrate.log" 2>&1

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/jwt.key" 2>/dev/null
openssl pkey -in "$work/jwt.key" -pubout -out "$work/jwt.pub"
export CLERK_JWT_KEY
CLERK_JWT_KEY=$(cat "$work/jwt.pub")

location_port=$(free_port)
vendor_port=$(free_port)
export VENTA_LOCATION_ADDR=127.0.0.1:$location_port
export VENTA_VENDOR_ADDR=127.0.0.1:$vendor_port
VENTA_METRICS_ADDR=127.0.0.1:$(free_port) VENTA_LOCATION_BATCH_MS=10 \
    "$BUILD/apps/location/venta-location" 2>"$work/location.log" &
pids+=($!)
VENTA_METRICS_ADDR=127.0.0.1:$(free_port) "$BUILD/apps/vendor/venta-vendor" 2>"$work/vendor.log" &
pids+=($!)
wait_port "$location_port" venta-location
wait_port "$vendor_port" venta-vendor

ws_a=$(free_port)
ws_b=$(free_port)
ws_c=$(free_port)
ws_d=$(free_port)
# Small limits so that the limit tests stay short; a short presence TTL for expiry.
presence_ttl_s=3
gw_env=(VENTA_PRESENCE_TTL_S=$presence_ttl_s VENTA_WS_AUTH_TIMEOUT_S=2 VENTA_WS_RATE=100 VENTA_WS_RATE_BURST=200
        VENTA_WS_MAX_STRIKES=10 VENTA_WS_QUEUE_MAX=256 VENTA_WS_VENDOR_INTERVAL_MS=0 ${WS_EXTRA_ENV:-})
env "${gw_env[@]}" VENTA_WS_ADDR=127.0.0.1:$ws_a "$BUILD/apps/ws-gateway/venta-ws-gateway" \
    2>"$work/ws-a.log" &
pids+=($!)
ws_a_pid=$!
# B paces every flush (no minimum length): its deliveries go through the pacing timer.
env "${gw_env[@]}" VENTA_WS_FLUSH_PACE_MIN_US=0 VENTA_WS_ADDR=127.0.0.1:$ws_b \
    "$BUILD/apps/ws-gateway/venta-ws-gateway" \
    2>"$work/ws-b.log" &
pids+=($!)
wait_port "$ws_a" venta-ws-gateway
# Gateway C pings after 1 s of silence (hang-up after 2 s), for the idle-timeout check
# alone: a busy test process may answer late, which must not cost A's or B's clients.
env "${gw_env[@]}" VENTA_WS_PING_S=1 VENTA_WS_ADDR=127.0.0.1:$ws_c \
    "$BUILD/apps/ws-gateway/venta-ws-gateway" 2>"$work/ws-c.log" &
pids+=($!)
# Gateway D is killed with SIGKILL mid-run: its vendors' presence must still end.
env "${gw_env[@]}" VENTA_WS_ADDR=127.0.0.1:$ws_d "$BUILD/apps/ws-gateway/venta-ws-gateway" \
    2>"$work/ws-d.log" &
pids+=($!)
ws_d_pid=$!
disown "$ws_d_pid" # its SIGKILL is expected: no "Killed" notice from bash
wait_port "$ws_b" venta-ws-gateway
wait_port "$ws_c" venta-ws-gateway
wait_port "$ws_d" venta-ws-gateway

export WS_A=127.0.0.1:$ws_a WS_B=127.0.0.1:$ws_b WS_C=127.0.0.1:$ws_c WS_A_PID=$ws_a_pid
export WS_D=127.0.0.1:$ws_d WS_D_PID=$ws_d_pid PRESENCE_TTL_S=$presence_ttl_s
export JWT_PRIVATE_KEY_FILE=$work/jwt.key PROTO_ROOT=$SRC/proto
export NODE_PATH=$SRC/node_modules
node "$SRC/tests/e2e/ws/ws_e2e.js"
# SIGTERM: the gateway must close its clients and exit 0 (checked by the node script
# for the close code; the exit status here).
# ws_e2e.js sent the SIGTERM; send another while it drains, as an impatient supervisor
# might: it must still exit 0.
kill -TERM "$ws_a_pid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$ws_a_pid" 2>/dev/null || break; sleep 0.1; done
wait "$ws_a_pid" && echo "ok   venta-ws-gateway exited 0 after SIGTERM" ||
    { echo "FAIL venta-ws-gateway exit status $? after SIGTERM"; exit 1; }
