#!/usr/bin/env bash
# run_e2e.sh BUILD_ROOT SOURCE_ROOT — traces across the mesh: every process of it on free
# ports (venta-user, venta-vendor, venta-location, venta-gateway and two venta-ws-gateway,
# A for vendors and B for viewers, so that a fix crosses NATS), each logging JSON lines
# at info into its own file. trace.mjs sends sampled traceparents through both edges
# and follows them through those files by trace id.
set -euo pipefail
BUILD=$1
SRC=$2
NAME=venta-trace-e2e
# Info, the production level: the lines that follow a trace are there because the
# traces are sampled (flags 01), not because everything is logged.
export VENTA_LOG_LEVEL=info
# shellcheck source=../lib/edge_mesh.sh
source "$SRC/tests/e2e/lib/edge_mesh.sh"

gateway=$(free_port)
ws_a=$(free_port)
ws_b=$(free_port)
clerk_secret=whsec_$(openssl rand -base64 24)
export VENTA_USER_ADDR=127.0.0.1:$(free_port)
# shellcheck disable=SC2046
env $(tls_env venta-user) VENTA_METRICS_ADDR=127.0.0.1:$(free_port) "$BUILD/apps/user/venta-user" \
    2>"$work/user.log" &
pids+=($!)
# shellcheck disable=SC2046
env $(tls_env venta-gateway) CLERK_WEBHOOK_SIGNING_SECRET=$clerk_secret \
    VENTA_GATEWAY_ADDR=127.0.0.1:$gateway "$BUILD/apps/gateway/venta-gateway" 2>"$work/gateway.log" &
pids+=($!)
for ws in $ws_a $ws_b; do
    # shellcheck disable=SC2046
    env $(tls_env venta-ws-gateway) VENTA_WS_VENDOR_INTERVAL_MS=0 VENTA_WS_ADDR=127.0.0.1:$ws \
        "$BUILD/apps/ws-gateway/venta-ws-gateway" 2>"$work/ws-$ws.log" &
    pids+=($!)
done
wait_port "${VENTA_USER_ADDR#*:}" venta-user
wait_port "$gateway" venta-gateway
wait_port "$ws_a" venta-ws-gateway
wait_port "$ws_b" venta-ws-gateway
ln -s "$work/ws-$ws_a.log" "$work/ws-a.log"
ln -s "$work/ws-$ws_b.log" "$work/ws-b.log"

export GATEWAY=127.0.0.1:$gateway WS_A=127.0.0.1:$ws_a WS_B=127.0.0.1:$ws_b LOGS=$work
export CLERK_SECRET=$clerk_secret JWT_PRIVATE_KEY_FILE=$work/jwt.key
export NODE_PATH=$SRC/node_modules
node "$SRC/tests/e2e/trace/trace.mjs"
