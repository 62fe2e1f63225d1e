#!/usr/bin/env bash
# Integration test of venta-cli: `token` mints RS256 JWTs that jose (npm) verifies with
# the public key and rejects with another; `migrations` reports a fresh database as
# pending and a migrated one as applied; `health` sees a running venta-location serve.
set -uo pipefail
CLI=$1 MIGRATE=$2 LOCATION=$3 ROOT=$4
fails=0
check() { if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/key.pem" 2>/dev/null
openssl pkey -in "$work/key.pem" -pubout -out "$work/pub.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/other.pem" 2>/dev/null
openssl pkey -in "$work/other.pem" -pubout -out "$work/other.pub"

token=$("$CLI" token --sub user_cli_1 --ttl 120 --azp http://localhost:3000 --key "$work/key.pem")
verify() { # pubkey token → prints sub,azp or fails
    NODE_PATH=$ROOT/node_modules node -e '
const jose = require("jose"), fs = require("fs");
(async () => {
  const key = await jose.importSPKI(fs.readFileSync(process.argv[1], "utf8"), "RS256");
  const { payload } = await jose.jwtVerify(process.argv[2], key);
  const ttl = payload.exp - payload.iat;
  console.log(`${payload.sub},${payload.azp},${ttl}`);
})().catch(() => process.exit(1));' "$1" "$2"
}
check "token verifies with the public key" test "$(verify "$work/pub.pem" "$token")" = "user_cli_1,http://localhost:3000,120"
rejects() { ! verify "$@" >/dev/null; }
check "token fails with another key" rejects "$work/other.pub" "$token"
"$CLI" token --key "$work/key.pem" >/dev/null 2>&1
check "token without --sub is a usage error" test $? -eq 2
"$CLI" token --sub x --key "$work/missing.pem" >/dev/null 2>&1
check "token without a key fails" test $? -eq 1

db=$VENTA_TEST_PG_ADMIN_URL
dbname=cli_$$
psql -X -q "$db" -c "CREATE DATABASE $dbname TEMPLATE $VENTA_TEST_PG_TEMPLATE" >/dev/null
url=${db%/*}/$dbname
out=$(VENTA_DATABASE_URL=$url "$CLI" migrations)
check "migrations: fresh database is pending (exit 1)" test $? -eq 1
check "migrations lists pending files" grep -q "pending  0001_extensions.sql" <<<"$out"
VENTA_DATABASE_URL=$url "$MIGRATE" >/dev/null 2>&1
out=$(VENTA_DATABASE_URL=$url "$CLI" migrations)
check "migrations: migrated database is current (exit 0)" test $? -eq 0
check "migrations lists applied files" grep -q "applied  0004_location.sql" <<<"$out"

port=$("$VENTA_FREE_PORT" 1) mport=$("$VENTA_FREE_PORT" 1)
VENTA_DATABASE_URL=$url VENTA_NATS_URL=$VENTA_TEST_NATS_URL VENTA_LOCATION_ADDR=127.0.0.1:$port \
    VENTA_METRICS_ADDR=127.0.0.1:$mport VENTA_LOG_LEVEL=error "$LOCATION" &
pids+=($!)
ok=1
for _ in $(seq 1 100); do
    out=$(VENTA_USER_ADDR=127.0.0.1:1 VENTA_VENDOR_ADDR=127.0.0.1:1 VENTA_LOCATION_ADDR=127.0.0.1:$port "$CLI" health)
    grep -q "venta-location .*SERVING .*postgres=SERVING nats=SERVING jetstream=SERVING" <<<"$out" && { ok=0; break; }
    sleep 0.2
done
check "health shows venta-location serving with its dependencies" test $ok -eq 0
check "health reports unreachable services" grep -q "venta-user .*UNAVAILABLE" <<<"$out"
VENTA_USER_ADDR=127.0.0.1:1 VENTA_VENDOR_ADDR=127.0.0.1:1 VENTA_LOCATION_ADDR=127.0.0.1:$port "$CLI" health >/dev/null
check "health exits 1 when a service is down" test $? -eq 1

echo "$fails failed"
exit $((fails > 0))
