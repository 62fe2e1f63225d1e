#!/usr/bin/env bash
# run_e2e.sh BUILD_ROOT SOURCE_ROOT — the WebSocket edge end to end, against the real
# mesh: the harness's PostgreSQL, Redis and NATS, plus venta-migrate, venta-location,
# venta-vendor and four venta-ws-gateway processes on free ports (A, B, C; D is
# SIGKILLed by the checks). The checks themselves
# are ws_e2e.js, driving the gateways with the npm `ws` client. Everything started
# here is stopped on exit, failure included. Restarts NATS mid-run, on servers of its
# own (own_servers in tests/harness/meson.build).
set -euo pipefail
BUILD=$1
SRC=$2
NAME=venta-ws-e2e
# shellcheck source=../lib/edge_mesh.sh
source "$SRC/tests/e2e/lib/edge_mesh.sh"

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
