# scripts/lib/logins.sh — NATS users and Redis ACL users with least privilege, for the
# servers of a state dir (docs/security.md); sourced by scripts/lib/servers.sh.
#
# logins_make DIR writes a random password per login into DIR (NAME.nats-password,
# NAME.redis-password, mode 0600; kept when there, so a restart keeps them). Once
# $dir/logins exists, start_nats and start_redis run their server with the users and
# permissions of deploy/k8s/base/nats-auth.conf and deploy/k8s/base/redis-users.acl,
# the same files Kubernetes uses. Without it the servers take anyone, as in development.
#
# logins_env NAME prints the VENTA_NATS_* and VENTA_REDIS_* assignments of process NAME
# for env(1) (nothing for a login it does not have): how scripts/run and the tests give
# each process its own.

LOGINS_DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../deploy/k8s/base" && pwd)
LOGINS_NATS=(venta-ws-gateway venta-user venta-vendor venta-location venta-admin)
LOGINS_REDIS=(venta-gateway venta-ws-gateway venta-admin)

logins_make() { # DIR
    local d=$1 name kind
    mkdir -p "$d"
    chmod 700 "$d"
    for kind in nats redis; do
        local -n names="LOGINS_${kind^^}"
        for name in "${names[@]}"; do
            [[ -s $d/$name.$kind-password ]] && continue
            # A letter first: nats-server parses a password from its environment as a
            # configuration value, and one that starts with a digit as a number.
            (umask 077 && echo "v$(openssl rand -hex 24)" >"$d/$name.$kind-password")
        done
    done
}

# The variable of NAME's password in the servers' configuration: venta-ws-gateway →
# NATS_PASSWORD_WS_GATEWAY (kind nats) or REDIS_PASSWORD_WS_GATEWAY (kind redis).
logins_variable() { # kind name
    local short=${2#venta-}
    short=${short//-/_}
    echo "${1^^}_PASSWORD_${short^^}"
}

logins_env() { # NAME
    local d=$dir/logins
    [[ -d $d ]] || return 0
    [[ -f $d/$1.nats-password ]] && echo "VENTA_NATS_USER=$1 VENTA_NATS_PASSWORD=$(cat "$d/$1.nats-password")"
    [[ -f $d/$1.redis-password ]] && echo "VENTA_REDIS_USER=$1 VENTA_REDIS_PASSWORD=$(cat "$d/$1.redis-password")"
    return 0
}

# The nats-server command, one word a line: the passwords in its environment and the
# users' file, when there are logins.
logins_nats_command() {
    local d=$dir/logins name
    if [[ ! -d $d ]]; then
        echo nats-server
        return
    fi
    echo env
    for name in "${LOGINS_NATS[@]}"; do
        echo "$(logins_variable nats "$name")=$(cat "$d/$name.nats-password")"
    done
    printf '%s\n' nats-server -c "$LOGINS_DEPLOY/nats-auth.conf"
}

# The redis-server command, one word a line: with logins, the ACL file made from
# redis-users.acl with the passwords filled in (comments dropped: Redis reads none).
logins_redis_command() {
    local d=$dir/logins name line
    echo redis-server
    [[ -d $d ]] || return 0
    (
        umask 077
        while IFS= read -r line; do
            [[ -z $line || $line == \#* ]] && continue
            for name in "${LOGINS_REDIS[@]}"; do
                local var
                var=$(logins_variable redis "$name")
                line=${line//"\${$var}"/$(cat "$d/$name.redis-password")}
            done
            [[ $line == *'${'* ]] && die "redis-users.acl: unknown variable in: ${line%%>*}"
            echo "$line"
        done <"$LOGINS_DEPLOY/redis-users.acl" >"$d/users.acl"
    )
    printf '%s\n' --aclfile "$d/users.acl"
}
