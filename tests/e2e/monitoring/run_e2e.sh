#!/usr/bin/env bash
# run_e2e.sh BUILD_ROOT SOURCE_ROOT — deploy/k8s/monitoring against the running mesh:
# every process of it (venta-user, venta-vendor, venta-location, venta-gateway,
# venta-ws-gateway) on free ports, some traffic through both edges, and a real
# Prometheus (Debian's) scraping them all with the alert rules loaded. check.mjs then
# asserts that every rule evaluates without error and that every metric the rules and
# the Grafana dashboard name is exported by a running process.
set -euo pipefail
BUILD=$1
SRC=$2
NAME=venta-monitoring-e2e
# shellcheck source=../lib/edge_mesh.sh
source "$SRC/tests/e2e/lib/edge_mesh.sh"

metrics_user=$(free_port)
gateway=$(free_port)
ws=$(free_port)
export VENTA_USER_ADDR=127.0.0.1:$(free_port)
# Each with its own certificate when the harness runs the mesh with mTLS (tls_env).
# shellcheck disable=SC2046
env $(tls_env venta-user) VENTA_METRICS_ADDR=127.0.0.1:$metrics_user "$BUILD/apps/user/venta-user" \
    2>"$work/user.log" &
pids+=($!)
# A Clerk webhook secret, so that a forged delivery is counted as refused.
# shellcheck disable=SC2046
env $(tls_env venta-gateway) CLERK_WEBHOOK_SIGNING_SECRET=whsec_$(openssl rand -base64 24) \
    VENTA_GATEWAY_ADDR=127.0.0.1:$gateway "$BUILD/apps/gateway/venta-gateway" 2>"$work/gateway.log" &
pids+=($!)
# shellcheck disable=SC2046
env $(tls_env venta-ws-gateway) VENTA_WS_ADDR=127.0.0.1:$ws "$BUILD/apps/ws-gateway/venta-ws-gateway" \
    2>"$work/ws.log" &
pids+=($!)
wait_port "${VENTA_USER_ADDR#*:}" venta-user
wait_port "$gateway" venta-gateway
wait_port "$ws" venta-ws-gateway

# The scrape targets: the services' metrics ports and the edges' own ports.
targets=("127.0.0.1:$metrics_user" "127.0.0.1:$gateway" "127.0.0.1:$ws")
for addr in $VENTA_LOCATION_METRICS $VENTA_VENDOR_METRICS; do targets+=("$addr"); done
prom=$(free_port)
{
    echo "global: {scrape_interval: 1s, evaluation_interval: 1s}"
    echo "rule_files: ['$SRC/deploy/k8s/monitoring/venta-alerts.rules.yml']"
    echo "scrape_configs:"
    echo "  - job_name: venta"
    echo "    static_configs:"
    printf "      - targets: ['%s']\n" "$(IFS=,; echo "${targets[*]}" | sed "s/,/','/g")"
} >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address=127.0.0.1:$prom >"$work/prometheus.log" 2>&1 &
pids+=($!)
wait_port "$prom" prometheus

export PROMETHEUS=http://127.0.0.1:$prom GATEWAY=127.0.0.1:$gateway WS=127.0.0.1:$ws
export TARGETS="${targets[*]}" JWT_PRIVATE_KEY_FILE=$work/jwt.key SRC
disown "$location_pid" # check.mjs SIGKILLs it: no "Killed" notice from bash
export LOCATION_PID=$location_pid LOCATION_METRICS=$VENTA_LOCATION_METRICS
export NODE_PATH=$SRC/node_modules
node "$SRC/tests/e2e/monitoring/check.mjs"
