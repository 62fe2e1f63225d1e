#!/usr/bin/env bash
# run_e2e.sh BUILD_ROOT SOURCE_ROOT — socket.io on venta-ws-gateway end to end: the
# harness's PostgreSQL, Redis and NATS, venta-migrate, venta-location, venta-vendor and
# two gateways (A, B: one fan-out across replicas) with a short Engine.IO heartbeat.
# The checks are sio_e2e.js. Everything started here is stopped on exit.
set -euo pipefail
BUILD=$1
SRC=$2
NAME=venta-sio-e2e
# shellcheck source=../lib/edge_mesh.sh
source "$SRC/tests/e2e/lib/edge_mesh.sh"

ws_a=$(free_port)
ws_b=$(free_port)
for p in "$ws_a" "$ws_b"; do
    env VENTA_WS_VENDOR_INTERVAL_MS=0 VENTA_WS_MAX_MESSAGE_BYTES=16384 \
        VENTA_SIO_PING_INTERVAL_MS=400 VENTA_SIO_PING_TIMEOUT_MS=600 VENTA_WS_ADDR=127.0.0.1:$p \
        "$BUILD/apps/ws-gateway/venta-ws-gateway" 2>"$work/ws-$p.log" &
    pids+=($!)
done
wait_port "$ws_a" venta-ws-gateway
wait_port "$ws_b" venta-ws-gateway

# A third gateway's port and what starts it: sio_e2e.js restarts that one itself.
export WS_A=127.0.0.1:$ws_a WS_B=127.0.0.1:$ws_b WS_C=127.0.0.1:$(free_port)
export WS_GATEWAY_BIN=$BUILD/apps/ws-gateway/venta-ws-gateway VENTA_WS_VENDOR_INTERVAL_MS=0
export PROTO_ROOT=$SRC/proto NODE_PATH=$SRC/node_modules
DEBUG=${SIO_DEBUG:-} node "$SRC/tests/e2e/sio/sio_e2e.js"
