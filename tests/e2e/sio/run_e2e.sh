#!/usr/bin/env bash
# run_e2e.sh BUILD_ROOT SOURCE_ROOT — socket.io on venta-ws-gateway end to end: the
# harness's PostgreSQL, Redis and NATS, venta-migrate, venta-location, venta-vendor and
# two gateways (A, B: one fan-out across replicas) with a short Engine.IO heartbeat.
# The checks are sio_e2e.js. Everything started here is stopped on exit.
set -euo pipefail
BUILD=$1
SRC=$2
: "${VENTA_TEST_PG_ADMIN_URL:?run under tests/harness/harness.sh run}"

work=$(mktemp -d "${TMPDIR:-/tmp}/venta-sio-e2e.XXXXXX")
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

port() { "$BUILD/tests/harness/free-port" 1; }
wait_port() { # port what
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "$2 did not open port $1" >&2
    return 1
}

db="venta_sio_e2e_$$"
psql -X -q -v ON_ERROR_STOP=1 "$VENTA_TEST_PG_ADMIN_URL" \
    -c "CREATE DATABASE $db TEMPLATE ${VENTA_TEST_PG_TEMPLATE:-venta_template}" >/dev/null
export VENTA_DATABASE_URL=${VENTA_TEST_PG_ADMIN_URL%/*}/$db
export VENTA_NATS_URL=$VENTA_TEST_NATS_URL VENTA_REDIS_URL=$VENTA_TEST_REDIS_URL
export VENTA_LOG_LEVEL=${VENTA_LOG_LEVEL:-warn}
VENTA_MIGRATIONS_DIR=$SRC/prisma-free-sql "$BUILD/apps/migrate/venta-migrate" >"$work/migrate.log" 2>&1

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/jwt.key" 2>/dev/null
export CLERK_JWT_KEY
CLERK_JWT_KEY=$(openssl pkey -in "$work/jwt.key" -pubout)

export VENTA_LOCATION_ADDR=127.0.0.1:$(port) VENTA_VENDOR_ADDR=127.0.0.1:$(port)
VENTA_METRICS_ADDR=127.0.0.1:$(port) VENTA_LOCATION_BATCH_MS=10 \
    "$BUILD/apps/location/venta-location" 2>"$work/location.log" &
pids+=($!)
VENTA_METRICS_ADDR=127.0.0.1:$(port) "$BUILD/apps/vendor/venta-vendor" 2>"$work/vendor.log" &
pids+=($!)
wait_port "${VENTA_LOCATION_ADDR#*:}" venta-location
wait_port "${VENTA_VENDOR_ADDR#*:}" venta-vendor

ws_a=$(port)
ws_b=$(port)
for p in "$ws_a" "$ws_b"; do
    env VENTA_WS_VENDOR_INTERVAL_MS=0 VENTA_WS_MAX_MESSAGE_BYTES=16384 \
        VENTA_SIO_PING_INTERVAL_MS=400 VENTA_SIO_PING_TIMEOUT_MS=600 VENTA_WS_ADDR=127.0.0.1:$p \
        "$BUILD/apps/ws-gateway/venta-ws-gateway" 2>"$work/ws-$p.log" &
    pids+=($!)
done
wait_port "$ws_a" venta-ws-gateway
wait_port "$ws_b" venta-ws-gateway

export WS_A=127.0.0.1:$ws_a WS_B=127.0.0.1:$ws_b JWT_PRIVATE_KEY_FILE=$work/jwt.key
export PROTO_ROOT=$SRC/proto NODE_PATH=$SRC/node_modules
DEBUG=${SIO_DEBUG:-} node "$SRC/tests/e2e/sio/sio_e2e.js"
