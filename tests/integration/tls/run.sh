#!/usr/bin/env bash
# Integration test of mTLS on the gRPC hops (docs/security.md), under tests/harness:
# a throwaway CA and certificates from scripts/mesh-certs, a real venta-vendor serving
# with VENTA_TLS_*, and real clients — @grpc/grpc-js (tls_client.js) with the right
# certificate, none, one of another CA and ones of processes the allow-list refuses;
# venta-cli health (our C client), which must refuse a server with the wrong identity.
# Then rotation: new certificate files on disk, seen by a new connection without a
# restart; and the start-up checks of VENTA_TLS_* (exit 2 naming the variable).
#
#   run.sh VENDOR_BIN MIGRATE_BIN CLI_BIN SOURCE_ROOT PROTO_ROOT
set -uo pipefail
VENDOR=$1 MIGRATE=$2 CLI=$3 ROOT=$4 PROTO=$5
HERE=$(cd "$(dirname "$0")" && pwd)
fails=0
check() { if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }
work=$(mktemp -d)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
export NODE_PATH=$ROOT/node_modules

"$ROOT/scripts/mesh-certs" "$work/certs" || { echo "FAIL mesh-certs"; exit 1; }
"$ROOT/scripts/mesh-certs" "$work/other" venta-gateway venta-vendor venta-cli || { echo "FAIL mesh-certs (other CA)"; exit 1; }

dbname=tls_$$
psql -X -q "$VENTA_TEST_PG_ADMIN_URL" -c "CREATE DATABASE $dbname TEMPLATE $VENTA_TEST_PG_TEMPLATE" >/dev/null
export VENTA_DATABASE_URL=${VENTA_TEST_PG_ADMIN_URL%/*}/$dbname
"$MIGRATE" >/dev/null 2>&1 || { echo "FAIL migrate"; exit 1; }
export VENTA_NATS_URL=$VENTA_TEST_NATS_URL

tls_env() { # NAME [DIR] → the VENTA_TLS_* assignments of process NAME
    local d=${2:-$work/certs}
    echo "VENTA_TLS_CA=$d/ca.pem VENTA_TLS_CERT=$d/$1.pem VENTA_TLS_KEY=$d/$1.key"
}
port=$("$VENTA_FREE_PORT" 1) mport=$("$VENTA_FREE_PORT" 1)
target=127.0.0.1:$port
env $(tls_env venta-vendor) VENTA_TLS_REFRESH_S=1 VENTA_VENDOR_ADDR=$target \
    VENTA_METRICS_ADDR=127.0.0.1:$mport VENTA_LOG_LEVEL=info "$VENDOR" 2>"$work/vendor.log" &
pids+=($!)

# venta-cli health over mTLS: as venta-cli, expecting spiffe://venta/venta-vendor.
ok=1
for _ in $(seq 1 150); do
    out=$(env $(tls_env venta-cli) VENTA_USER_ADDR=$target VENTA_VENDOR_ADDR=$target \
        VENTA_LOCATION_ADDR=127.0.0.1:1 "$CLI" health 2>/dev/null)
    grep -q "venta-vendor .*SERVING .*postgres=SERVING nats=SERVING" <<<"$out" && { ok=0; break; }
    sleep 0.2
done
check "venta-cli health over mTLS sees venta-vendor serving" test $ok -eq 0
check "the C client refuses a server that is not the service it calls" \
    grep -q "venta-user .*UNAVAILABLE" <<<"$out"
check "GET /readyz on the metrics port: 200 while gRPC health serves (probes without a certificate)" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/readyz")" = 200
check "venta-vendor logs its identity" grep -q "mTLS as spiffe://venta/venta-vendor" "$work/vendor.log"
out=$(VENTA_VENDOR_ADDR=$target VENTA_USER_ADDR=127.0.0.1:1 VENTA_LOCATION_ADDR=127.0.0.1:1 \
    "$CLI" health 2>/dev/null)
check "venta-cli health in plaintext is refused" grep -q "venta-vendor .*UNAVAILABLE" <<<"$out"
out=$(env $(tls_env venta-cli "$work/other") VENTA_VENDOR_ADDR=$target VENTA_USER_ADDR=127.0.0.1:1 \
    VENTA_LOCATION_ADDR=127.0.0.1:1 "$CLI" health 2>/dev/null)
check "venta-cli with a certificate of another CA is refused" \
    grep -q "venta-vendor .*UNAVAILABLE" <<<"$out"

node "$HERE/tls_client.js" checks "$target" "$work/certs" "$work/other" "$PROTO"
check "grpc-js: every allow-list and handshake case" test $? -eq 0
check "refused calls are logged with the reason" grep -q "refused: venta-location may not call" "$work/vendor.log"

# Rotation: a new key and certificate for venta-vendor, renamed into place; a new
# connection gets it within a few refreshes (VENTA_TLS_REFRESH_S=1), without a restart.
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'; }
before=$(node "$HERE/tls_client.js" fingerprint "$target" "$work/certs" "$PROTO")
check "the server presents its certificate file" test "$before" = "$(fp "$work/certs/venta-vendor.pem")"
"$ROOT/scripts/mesh-certs" "$work/certs" venta-vendor
after=$(fp "$work/certs/venta-vendor.pem")
check "mesh-certs made a new certificate" test "$before" != "$after"
seen=
for _ in $(seq 1 100); do
    seen=$(node "$HERE/tls_client.js" fingerprint "$target" "$work/certs" "$PROTO")
    [[ $seen == "$after" ]] && break
    sleep 0.3
done
check "after rotation a new connection sees the new certificate" test "$seen" = "$after"
check "venta-vendor was not restarted" kill -0 "${pids[0]}"

# Start-up checks: a bad VENTA_TLS_* stops the process at once, naming the variable.
start_fails() { # VAR-it-must-name ENV...
    local name=$1
    shift
    local err
    err=$(env "$@" VENTA_VENDOR_ADDR=127.0.0.1:1 VENTA_METRICS_ADDR=127.0.0.1:1 "$VENDOR" 2>&1 >/dev/null)
    local rc=$?
    [[ $rc -eq 2 ]] && grep -q "$name" <<<"$err"
}
c=$work/certs
check "VENTA_TLS_CA alone: exit 2 naming VENTA_TLS_CERT" start_fails VENTA_TLS_CERT VENTA_TLS_CA=$c/ca.pem
check "a missing key file: exit 2 naming VENTA_TLS_KEY" start_fails VENTA_TLS_KEY \
    VENTA_TLS_CA=$c/ca.pem VENTA_TLS_CERT=$c/venta-vendor.pem VENTA_TLS_KEY=$c/nope.key
check "a key of another certificate: exit 2 naming VENTA_TLS_KEY" start_fails VENTA_TLS_KEY \
    VENTA_TLS_CA=$c/ca.pem VENTA_TLS_CERT=$c/venta-vendor.pem VENTA_TLS_KEY=$c/venta-user.key
check "another process's certificate: exit 2 naming it" start_fails "names spiffe://venta/venta-user" \
    $(tls_env venta-user)
check "a certificate of another CA: exit 2 naming VENTA_TLS_CERT" start_fails VENTA_TLS_CERT \
    VENTA_TLS_CA=$c/ca.pem VENTA_TLS_CERT=$work/other/venta-vendor.pem VENTA_TLS_KEY=$work/other/venta-vendor.key

# Without TLS (the development default) the service still starts, and says so once.
port2=$("$VENTA_FREE_PORT" 1) mport2=$("$VENTA_FREE_PORT" 1)
VENTA_VENDOR_ADDR=127.0.0.1:$port2 VENTA_METRICS_ADDR=127.0.0.1:$mport2 "$VENDOR" 2>"$work/plain.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q "serving gRPC" "$work/plain.log" && break; sleep 0.1; done
check "plaintext: venta-vendor serves" grep -q "serving gRPC" "$work/plain.log"
check "plaintext: one warning at start" test "$(grep -c "gRPC without TLS" "$work/plain.log")" -eq 1

# Both stop cleanly on SIGTERM (under ASan: no leak from the TLS objects either).
for i in 0 1; do
    kill -TERM "${pids[$i]}"
    wait "${pids[$i]}"
    check "venta-vendor $i exits 0 on SIGTERM" test $? -eq 0
done
check "no sanitizer report" bash -c "! grep -q Sanitizer '$work/vendor.log' '$work/plain.log'"
pids=()

echo "$fails failed"
exit $((fails > 0))
