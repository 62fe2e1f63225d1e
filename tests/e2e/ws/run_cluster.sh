#!/usr/bin/env bash
# run_cluster.sh BUILD_ROOT SOURCE_ROOT — the WebSocket edge on a 3-node NATS cluster
# (issue #20): a vendor deleted while a gateway's NATS connection is down is still
# ended on that gateway once it is back, because the gateway reads evt.vendor.deleted
# from the JetStream stream (three replicas) rather than from core NATS, which keeps
# nothing for a subscriber that is away.
#
# The cluster is this test's own (scripts/lib/servers.sh, in a folder of its own, every
# node advertising nothing, so that a client stays on the node it was given):
# venta-location and venta-vendor use node 1, the gateway node 3 only. The harness's
# PostgreSQL and Redis serve the rest (tests/e2e/lib/edge_mesh.sh). The checks are
# ws_cluster_e2e.js; it stops and starts node 3 through CLUSTER_CTL.
set -euo pipefail
BUILD=$1
SRC=$2
NAME=venta-ws-cluster-e2e

die() { echo "$*" >&2; exit 1; }
free_port() { "$BUILD/tests/harness/free-port" 1; }
# shellcheck source=../../../scripts/lib/servers.sh
source "$SRC/scripts/lib/servers.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/$NAME-nats.XXXXXX")
chmod 755 "$dir"
NATS_NODE_OPTS=(--no_advertise=true)
stop_cluster() { for n in "${NATS_CLUSTER_NODES[@]}"; do stop_server "$n"; done; rm -rf "$dir"; }
trap stop_cluster EXIT
nats_cluster_ports
start_nats_cluster
node_url() { echo "nats://127.0.0.1:$(cat "$dir/$1.port")"; }
export VENTA_TEST_NATS_URL VENTA_EVENTS_REPLICAS=3
VENTA_TEST_NATS_URL=$(node_url nats)

# shellcheck source=../lib/edge_mesh.sh
source "$SRC/tests/e2e/lib/edge_mesh.sh"
trap 'rc=$?; stop_cluster; (exit $rc); cleanup' EXIT

ws=$(free_port)
VENTA_NATS_URL=$(node_url nats3) VENTA_WS_ADDR=127.0.0.1:$ws VENTA_WS_VENDOR_INTERVAL_MS=0 \
    "$BUILD/apps/ws-gateway/venta-ws-gateway" 2>"$work/ws.log" &
pids+=($!)
wait_port "$ws" venta-ws-gateway

# node3 stop|start, for the checks.
cat >"$work/cluster-ctl" <<CTL
#!/usr/bin/env bash
set -euo pipefail
die() { echo "\$*" >&2; exit 1; }
source "$SRC/scripts/lib/servers.sh"
dir=$dir
NATS_NODE_OPTS=(--no_advertise=true)
case \$1 in stop) stop_server nats3 ;; start) start_nats3 ;; esac
CTL
chmod +x "$work/cluster-ctl"

export WS=127.0.0.1:$ws CLUSTER_CTL=$work/cluster-ctl PROTO_ROOT=$SRC/proto
export NODE_PATH=$SRC/node_modules
node "$SRC/tests/e2e/ws/ws_cluster_e2e.js"
