#!/usr/bin/env bash
# harness.sh — real PostgreSQL 15 + PostGIS, Redis and NATS for a test run.
#
#   harness.sh run [-- CMD ARGS...]   start all three on free 127.0.0.1 ports in a fresh
#                                    temp dir, run CMD with their URLs in the environment,
#                                    then tear everything down (always: on exit, on
#                                    Ctrl-C, on SIGTERM) and exit with CMD's status.
#   harness.sh restart|stop|start SERVER   (SERVER: postgres, redis, nats[2|3]) for fault
#                                    tests; needs VENTA_HARNESS_DIR from a running `run`.
#   harness.sh sweep                  kill what a harness killed with SIGKILL left behind.
#
# VENTA_HARNESS_NATS_CLUSTER=1 runs NATS as a 3-node cluster with routes (servers nats,
# nats2, nats3, each of which restart/stop/start takes; scripts/lib/servers.sh):
# VENTA_TEST_NATS_URL is then the list of the three, and VENTA_EVENTS_REPLICAS defaults
# to 3 (the stream of domain events on every node).
#
# PostgreSQL runs with fsync, full-page writes and synchronous commit off (fast, and
# the data dies with the run) unless VENTA_HARNESS_PG_DURABLE=1 is set;
# VENTA_HARNESS_PG_SETTINGS="name=value …" adds or overrides server settings.
#
# CMD sees:
#   VENTA_HARNESS_DIR          the run's state dir (pids, ports, logs, data)
#   VENTA_HARNESS              this script, for restart/stop/start
#   VENTA_TEST_PG_ADMIN_URL    superuser URL of the maintenance database
#   VENTA_TEST_PG_TEMPLATE     a database with postgis and pg_trgm to copy per test
#   VENTA_TEST_DATABASE_URL    a database for CMD itself (a copy of the template)
#   VENTA_TEST_REDIS_URL, VENTA_TEST_NATS_URL
#   VENTA_TEST_TLS_DIR         only with VENTA_HARNESS_TLS=1: a throwaway mesh CA and a
#                              certificate per process (scripts/mesh-certs), with which
#                              the e2e suites run the mesh with mTLS (docs/security.md)
#   VENTA_TEST_LOGINS_DIR      only with VENTA_HARNESS_TLS=1: NATS and Redis then take
#                              only the mesh's users, with least privilege; this dir
#                              holds their passwords (NAME.nats-password,
#                              NAME.redis-password; venta-admin may do anything), see
#                              scripts/lib/logins.sh and harness_logins below. The
#                              unit and integration suites log in to nothing: run
#                              them without VENTA_HARNESS_TLS (scripts/test does)
#
# PostgreSQL refuses to run as root, so when we are root it runs as the `postgres`
# user (setpriv), in a data dir that user owns. Every server is tracked by a pid file
# in the run's dir, also when a test restarts it. Teardown stops them all; should the
# harness itself be SIGKILLed, a detached watchdog notices its death within a second
# and sweeps the dir, and the next run sweeps any dir whose owner is gone.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TMP_ROOT=${TMPDIR:-/tmp}
SERVERS=(postgres redis nats)
ALL_SERVERS=(postgres redis nats nats2 nats3) # what a sweep looks for, cluster or not

log() { printf 'harness: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

free_port() {
    # A tiny C helper from the build binds port 0; fall back to a random probe.
    if [[ -n "${VENTA_FREE_PORT:-}" && -x "${VENTA_FREE_PORT}" ]]; then
        "${VENTA_FREE_PORT}" 1
        return
    fi
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    die "no free port found"
}

# shellcheck source=../../scripts/lib/servers.sh
source "$HERE/../../scripts/lib/servers.sh"
# Test servers trade durability for speed: their data dies with the run anyway.
# VENTA_HARNESS_PG_DURABLE=1 keeps PostgreSQL's durable defaults instead (fsync,
# full-page writes and synchronous commit on), as production runs it: for benchmarks
# that must pay what production pays (bench/location/run).
# VENTA_HARNESS_PG_SETTINGS="name=value …" adds server settings (they win over ours).
if [[ ${VENTA_HARNESS_PG_DURABLE:-0} == 1 ]]; then
    PG_EXTRA_OPTS=()
else
    PG_EXTRA_OPTS=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
fi
for setting in ${VENTA_HARNESS_PG_SETTINGS:-}; do PG_EXTRA_OPTS+=(-c "$setting"); done

teardown() {
    local s
    for s in "${SERVERS[@]}"; do stop_server "$s"; done
    rm -rf "$dir"
}

# Dirs of harnesses that died without teardown: kill their servers, remove them.
sweep() {
    local d owner s pid
    for d in "$TMP_ROOT"/venta-harness.*; do
        [[ -d $d && -f $d/owner.pid ]] || continue
        owner=$(cat "$d/owner.pid")
        pid_alive "$owner" && continue
        for s in "${ALL_SERVERS[@]}"; do
            pid=$(cat "$d/$s.pid" 2>/dev/null || true)
            pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
        done
        pkill -KILL -f -- "-D $d/pgdata" 2>/dev/null || true
        # Dying servers may still write into the dir: wait for them, then remove it
        # (again, should a last file appear meanwhile).
        for _ in $(seq 1 50); do
            pgrep -f -- "$d/" >/dev/null 2>&1 || break
            sleep 0.1
        done
        rm -rf "$d" 2>/dev/null || { sleep 0.5; rm -rf "$d" 2>/dev/null || true; }
    done
}

psql_admin() {
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(cat "$dir/postgres.port")" -U venta -d postgres "$@"
}

# ---- VENTA_HARNESS_NATS_CLUSTER=1: three NATS nodes instead of one ----
nats_cluster_on() { [[ ${VENTA_HARNESS_NATS_CLUSTER:-0} == 1 ]]; }

nats_cluster_setup() { # before any server starts: the ports, and the nodes to tear down
    nats_cluster_on || return 0
    nats_cluster_ports
    SERVERS+=(nats2 nats3)
}

nats_cluster_start() { # after node 1 (start_nats) started
    nats_cluster_on || return 0
    start_nats2
    start_nats3
}

nats_cluster_env() {
    nats_cluster_on || return 0
    VENTA_TEST_NATS_URL=$(nats_cluster_urls)
    export VENTA_EVENTS_REPLICAS=${VENTA_EVENTS_REPLICAS:-3}
    log "nats cluster: $VENTA_TEST_NATS_URL (JetStream replicas $VENTA_EVENTS_REPLICAS)"
}

# With VENTA_HARNESS_TLS=1, NATS and Redis start with a user per process and its
# permissions (scripts/lib/logins.sh: deploy/k8s/base/nats-auth.conf and
# redis-users.acl), as in production; anyone else is refused. A restart keeps them.
harness_logins() {
    [[ ${VENTA_HARNESS_TLS:-0} == 1 ]] || return 0
    logins_make "$dir/logins"
    export VENTA_TEST_LOGINS_DIR=$dir/logins
}

cmd_run() {
    sweep
    dir=$(mktemp -d "$TMP_ROOT/venta-harness.XXXXXX")
    chmod 755 "$dir"
    echo $$ >"$dir/owner.pid"
    trap 'teardown' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local s
    for s in "${SERVERS[@]}"; do free_port >"$dir/$s.port"; done
    nats_cluster_setup
    # The watchdog outlives a SIGKILLed harness by design: it is its own session.
    setsid bash "$HERE/harness.sh" watchdog "$dir" $$ </dev/null >/dev/null 2>&1 &
    harness_logins
    start_postgres
    start_redis
    start_nats
    nats_cluster_start

    local pg_port redis_port nats_port
    pg_port=$(cat "$dir/postgres.port")
    redis_port=$(cat "$dir/redis.port")
    nats_port=$(cat "$dir/nats.port")
    psql_admin -c "CREATE DATABASE venta_template" \
        -c "ALTER DATABASE venta_template WITH is_template true" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U venta -d venta_template \
        -c "CREATE EXTENSION postgis" -c "CREATE EXTENSION pg_trgm" >/dev/null
    psql_admin -c "CREATE DATABASE venta TEMPLATE venta_template" >/dev/null

    export VENTA_HARNESS_DIR=$dir
    export VENTA_HARNESS="$HERE/harness.sh"
    export VENTA_TEST_PG_ADMIN_URL="postgresql://venta@127.0.0.1:$pg_port/postgres"
    export VENTA_TEST_PG_TEMPLATE=venta_template
    export VENTA_TEST_DATABASE_URL="postgresql://venta@127.0.0.1:$pg_port/venta"
    export VENTA_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
    export VENTA_TEST_NATS_URL="nats://127.0.0.1:$nats_port"
    nats_cluster_env
    log "postgres :$pg_port, redis :$redis_port, nats :$nats_port in $dir"
    if [[ ${VENTA_HARNESS_TLS:-0} == 1 ]]; then
        "$HERE/../../scripts/mesh-certs" "$dir/certs" || die "cannot make the mesh certificates"
        export VENTA_TEST_TLS_DIR=$dir/certs
        log "mTLS: certificates in $VENTA_TEST_TLS_DIR"
    fi

    local rc=0
    if (($# > 0)); then
        "$@" || rc=$?
    fi
    exit "$rc"
}

cmd_server() { # action name
    dir=${VENTA_HARNESS_DIR:?restart/stop/start need VENTA_HARNESS_DIR from a running harness}
    local action=$1 name=$2
    case $name in postgres | redis | nats) ;;
    nats2 | nats3) [[ -f $dir/$name.port ]] || die "$name: the harness runs no NATS cluster" ;;
    *) die "unknown server: $name" ;;
    esac
    case $action in
    stop) stop_server "$name" ;;
    start) "start_$name" ;;
    restart)
        stop_server "$name"
        "start_$name"
        ;;
    esac
}

case "${1:-}" in
run)
    shift
    [[ ${1:-} == -- ]] && shift
    cmd_run "$@"
    ;;
restart | stop | start)
    [[ $# -eq 2 ]] || die "usage: harness.sh $1 postgres|redis|nats|nats2|nats3"
    cmd_server "$1" "$2"
    ;;
sweep) sweep ;;
watchdog) # dir owner-pid: wait for the owner to go, then sweep what it left
    while kill -0 "$3" 2>/dev/null; do sleep 1; done
    sweep
    ;;
*)
    echo "usage: harness.sh run [-- CMD...] | restart|stop|start SERVER | sweep" >&2
    exit 2
    ;;
esac
