# tests/e2e/lib/edge_mesh.sh — what the WebSocket edge's e2e scripts (tests/e2e/ws,
# tests/e2e/sio) share: a work folder and the processes started, stopped on exit (their
# logs shown on failure); free ports; a migrated database from the harness's template; a
# JWT signing key; and venta-location and venta-vendor behind the gateways. Sourced after
# BUILD, SRC and NAME (the database and folder prefix) are set; run under
# tests/harness/harness.sh run.
: "${VENTA_TEST_PG_ADMIN_URL:?run under tests/harness/harness.sh run}"

work=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
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

# A database of its own, migrated; NATS, Redis and logs as the harness provides them.
db="${NAME//-/_}_$$"
psql -X -q -v ON_ERROR_STOP=1 "$VENTA_TEST_PG_ADMIN_URL" \
    -c "CREATE DATABASE $db TEMPLATE ${VENTA_TEST_PG_TEMPLATE:-venta_template}" >/dev/null
export VENTA_DATABASE_URL=${VENTA_TEST_PG_ADMIN_URL%/*}/$db
export VENTA_NATS_URL=$VENTA_TEST_NATS_URL VENTA_REDIS_URL=$VENTA_TEST_REDIS_URL
export VENTA_LOG_LEVEL=${VENTA_LOG_LEVEL:-warn}
VENTA_MIGRATIONS_DIR=$SRC/prisma-free-sql "$BUILD/apps/migrate/venta-migrate" >"$work/migrate.log" 2>&1

# The key the checks sign session tokens with; the gateways verify with its public half.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/jwt.key" 2>/dev/null
export CLERK_JWT_KEY JWT_PRIVATE_KEY_FILE=$work/jwt.key
CLERK_JWT_KEY=$(openssl pkey -in "$work/jwt.key" -pubout)

# mTLS when the harness made certificates (VENTA_HARNESS_TLS=1): each process its own.
# And its own NATS and Redis logins (VENTA_TEST_LOGINS_DIR, scripts/lib/logins.sh).
tls_env() { # NAME → its VENTA_TLS_* (and login) assignments for env(1); nothing without TLS
    [[ -n ${VENTA_TEST_TLS_DIR:-} ]] || return 0
    local d=$VENTA_TEST_TLS_DIR l=${VENTA_TEST_LOGINS_DIR:-}
    echo "VENTA_TLS_CA=$d/ca.pem VENTA_TLS_CERT=$d/$1.pem VENTA_TLS_KEY=$d/$1.key"
    [[ -n $l && -f $l/$1.nats-password ]] &&
        echo "VENTA_NATS_USER=$1 VENTA_NATS_PASSWORD=$(cat "$l/$1.nats-password")"
    [[ -n $l && -f $l/$1.redis-password ]] &&
        echo "VENTA_REDIS_USER=$1 VENTA_REDIS_PASSWORD=$(cat "$l/$1.redis-password")"
    return 0
}

# venta-location (short batches) and venta-vendor, on free ports (metrics too).
export VENTA_LOCATION_ADDR=127.0.0.1:$(free_port) VENTA_VENDOR_ADDR=127.0.0.1:$(free_port)
export VENTA_LOCATION_METRICS=127.0.0.1:$(free_port) VENTA_VENDOR_METRICS=127.0.0.1:$(free_port)
# shellcheck disable=SC2046 # the assignments split on purpose
env $(tls_env venta-location) VENTA_METRICS_ADDR=$VENTA_LOCATION_METRICS VENTA_LOCATION_BATCH_MS=10 \
    "$BUILD/apps/location/venta-location" 2>"$work/location.log" &
pids+=($!)
location_pid=$!
# shellcheck disable=SC2046
env $(tls_env venta-vendor) VENTA_METRICS_ADDR=$VENTA_VENDOR_METRICS \
    "$BUILD/apps/vendor/venta-vendor" 2>"$work/vendor.log" &
pids+=($!)
wait_port "${VENTA_LOCATION_ADDR#*:}" venta-location
wait_port "${VENTA_VENDOR_ADDR#*:}" venta-vendor
# Whatever starts from here on is venta-ws-gateway (the WebSocket gateways, also those a
# node script restarts), unless started with a tls_env of its own, which wins.
# shellcheck disable=SC2046
[[ -z ${VENTA_TEST_TLS_DIR:-} ]] || export $(tls_env venta-ws-gateway)
