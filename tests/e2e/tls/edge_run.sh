#!/usr/bin/env bash
# edge_run.sh BUILD_ROOT SOURCE_ROOT — TLS at the two edges (VENTA_HTTP_TLS_CERT/KEY,
# docs/security.md): venta-gateway and venta-ws-gateway serve HTTPS and WSS with a
# certificate of a throwaway CA (scripts/mesh-certs), in front of the real venta-vendor
# and venta-location (tests/e2e/lib/edge_mesh.sh). curl checks HTTPS here; edge_tls.js
# drives fetch, the `ws` client and socket.io-client over wss, and the bad settings.
# Runs with the harness's mTLS on or off: the edges' TLS does not depend on it.
set -euo pipefail
BUILD=$1
SRC=$2
NAME=venta-edge-tls-e2e
# shellcheck source=../lib/edge_mesh.sh
source "$SRC/tests/e2e/lib/edge_mesh.sh"

"$SRC/scripts/mesh-certs" "$work/edge" venta-edge venta-other >/dev/null 2>&1
export EDGE_CA=$work/edge/ca.pem
export VENTA_HTTP_TLS_CERT=$work/edge/venta-edge.pem VENTA_HTTP_TLS_KEY=$work/edge/venta-edge.key

gateway=$(free_port)
ws=$(free_port)
# shellcheck disable=SC2046 # the assignments split on purpose
env $(tls_env venta-gateway) VENTA_GATEWAY_ADDR=127.0.0.1:$gateway \
    "$BUILD/apps/gateway/venta-gateway" 2>"$work/gateway.log" &
pids+=($!)
VENTA_WS_ADDR=127.0.0.1:$ws "$BUILD/apps/ws-gateway/venta-ws-gateway" 2>"$work/ws.log" &
pids+=($!)
wait_port "$gateway" venta-gateway
wait_port "$ws" venta-ws-gateway

# curl, as an operator would: the edge's CA verifies it; plaintext gets no HTTP answer.
body=$(curl -sS --cacert "$EDGE_CA" "https://localhost:$gateway/healthz")
[[ $body == '{"status":"ok"}' ]] || { echo "FAIL curl https /healthz: $body"; exit 1; }
echo "ok   curl --cacert: GET https://…/healthz answers $body"
if curl -sS -o /dev/null "https://localhost:$gateway/healthz" 2>"$work/curl.err"; then
    echo "FAIL curl without the CA trusted an unknown certificate"
    exit 1
fi
echo "ok   curl without --cacert refuses the certificate ($(head -c 80 "$work/curl.err"))"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$gateway/healthz" || true)
[[ $code != 200 ]] || { echo "FAIL plaintext HTTP is still served on the TLS port"; exit 1; }
echo "ok   plaintext HTTP on the TLS port gets no answer (curl: $code)"

export GATEWAY=127.0.0.1:$gateway WS=127.0.0.1:$ws BUILD NODE_PATH=$SRC/node_modules
export OTHER_KEY=$work/edge/venta-other.key
node "$SRC/tests/e2e/tls/edge_tls.js"
