# scripts/lib/servers.sh — starting and stopping the PostgreSQL+PostGIS, Redis and NATS
# servers of a state dir; sourced by tests/harness/harness.sh (throwaway servers on
# free ports) and scripts/run (the local mesh under .run/).
#
# The caller sets `dir` (the state dir) and writes $dir/NAME.port first; each server
# runs in its own session with its pid in $dir/NAME.pid and its log in $dir/NAME.log.
# PostgreSQL refuses to run as root, so as root it runs as the `postgres` user in a
# data dir that user owns. PG_EXTRA_OPTS (an array) adds server settings. die() must
# be defined by the caller. Once $dir/logins exists (logins.sh), NATS and Redis run
# with a user per process and nobody else gets in.

# shellcheck source=scripts/lib/logins.sh
source "$(dirname "${BASH_SOURCE[0]}")/logins.sh"

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_EXTRA_OPTS=()

as_pg_user() {
    if [[ $(id -u) -eq 0 ]]; then
        setpriv --reuid=postgres --regid=postgres --init-groups "$@"
    else
        "$@"
    fi
}

wait_port() { # port seconds name
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    return 1
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# ---- per-server start commands (run in the background, pid to $dir/NAME.pid) ----

launch() { # name cmd...   — start a server in its own session, record its pid
    local name=$1
    shift
    setsid "$@" >>"$dir/$name.log" 2>&1 </dev/null &
    echo $! >"$dir/$name.pid"
}

start_postgres() {
    local port
    port=$(cat "$dir/postgres.port")
    if [[ ! -f "$dir/pgdata/PG_VERSION" ]]; then
        mkdir -p "$dir/pgdata" "$dir/pgsock"
        [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir/pgdata" "$dir/pgsock"
        as_pg_user "$PG_BIN/initdb" -D "$dir/pgdata" -U venta -A trust -E UTF8 --locale=C \
            --no-sync >>"$dir/postgres.log" 2>&1 || die "initdb failed: $(tail -5 "$dir/postgres.log")"
    fi
    local cmd=(env LC_ALL=C "$PG_BIN/postgres" -D "$dir/pgdata" -p "$port" -k "$dir/pgsock"
        -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=128MB
        -c log_min_messages=warning "${PG_EXTRA_OPTS[@]}")
    if [[ $(id -u) -eq 0 ]]; then
        cmd=(setpriv --reuid=postgres --regid=postgres --init-groups "${cmd[@]}")
    fi
    launch postgres "${cmd[@]}"
    wait_port "$port" 30 postgres || die "postgres did not start: $(tail -5 "$dir/postgres.log")"
    local i
    for i in $(seq 1 100); do
        "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && return 0
        sleep 0.1
    done
    die "postgres not ready: $(tail -5 "$dir/postgres.log")"
}

start_redis() {
    local port
    port=$(cat "$dir/redis.port")
    mkdir -p "$dir/redis"
    local cmd
    mapfile -t cmd < <(logins_redis_command) # users and ACLs once logins exist
    launch redis "${cmd[@]}" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$dir/redis" --daemonize no --protected-mode no
    wait_port "$port" 15 redis || die "redis did not start: $(tail -5 "$dir/redis.log")"
}

# NATS runs with JetStream (domain events, docs/events.md), its store in $dir/nats-js so
# that a restart keeps the streams and consumers; as node 1 of a cluster (below) when
# the dir has one.
start_nats() {
    if [[ -f $dir/nats.cport ]]; then
        start_nats_node nats
        return
    fi
    local port
    port=$(cat "$dir/nats.port")
    mkdir -p "$dir/nats-js"
    local cmd
    mapfile -t cmd < <(logins_nats_command) # users and permissions once logins exist
    launch nats "${cmd[@]}" -a 127.0.0.1 -p "$port" -js -sd "$dir/nats-js"
    wait_port "$port" 15 nats || die "nats did not start: $(tail -5 "$dir/nats.log")"
}

# ---- a 3-node NATS cluster (issue #20's scale setup) ----
#
# Nodes "nats", "nats2" and "nats3", each with its client port in $dir/NAME.port and its
# route port in $dir/NAME.cport, a server name, and its JetStream store in $dir/NAME-js;
# every node routes to the two others (a full mesh, as a Kubernetes StatefulSet's seed
# list does), so JetStream is clustered and a stream may keep 3 replicas. Node 1 is
# "nats", so that `start_nats`, `stop_server nats` and the rest act on it as before;
# start_nats starts it as a cluster node once nats_cluster_ports has been called.
# NATS_NODE_OPTS (an array) adds server options to every node, e.g.
# (--no_advertise=true) so that a client stays on the one node it was given.
NATS_CLUSTER_NODES=(nats nats2 nats3)
NATS_NODE_OPTS=()

nats_cluster_ports() { # writes the ports of the three nodes; free_port from the caller
    local n
    for n in "${NATS_CLUSTER_NODES[@]}"; do
        [[ -f $dir/$n.port ]] || free_port >"$dir/$n.port"
        free_port >"$dir/$n.cport"
    done
}

nats_cluster_urls() { # the client URL list of the nodes, as VENTA_NATS_URL takes it
    local n urls=()
    for n in "${NATS_CLUSTER_NODES[@]}"; do urls+=("nats://127.0.0.1:$(cat "$dir/$n.port")"); done
    (IFS=,; echo "${urls[*]}")
}

start_nats_node() { # name (nats, nats2 or nats3)
    local name=$1 n routes=()
    for n in "${NATS_CLUSTER_NODES[@]}"; do
        [[ $n == "$name" ]] || routes+=("nats://127.0.0.1:$(cat "$dir/$n.cport")")
    done
    mkdir -p "$dir/$name-js"
    launch "$name" nats-server -a 127.0.0.1 -p "$(cat "$dir/$name.port")" -n "venta-$name" \
        -js -sd "$dir/$name-js" --cluster_name venta \
        --cluster "nats://127.0.0.1:$(cat "$dir/$name.cport")" --routes "$(IFS=,; echo "${routes[*]}")" \
        "${NATS_NODE_OPTS[@]}"
    wait_port "$(cat "$dir/$name.port")" 15 "$name" || die "$name did not start: $(tail -5 "$dir/$name.log")"
}

start_nats2() { start_nats_node nats2; }
start_nats3() { start_nats_node nats3; }

start_nats_cluster() { # every node; JetStream elects its leader once two see each other
    local n
    for n in "${NATS_CLUSTER_NODES[@]}"; do "start_${n}"; done
}

stop_server() { # name
    local pidfile="$dir/$1.pid" pid
    [[ -f $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    rm -f "$pidfile"
    pid_alive "$pid" || return 0
    kill -INT "$pid" 2>/dev/null || true # postgres: fast shutdown; others: exit
    for _ in $(seq 1 100); do
        pid_alive "$pid" || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
        pid_alive "$pid" || break
        sleep 0.05
    done
    # A killed postmaster can leave backends behind; they hold the port until they go.
    if [[ $1 == postgres ]]; then pkill -KILL -f -- "-D $dir/pgdata" 2>/dev/null || true; fi
}

