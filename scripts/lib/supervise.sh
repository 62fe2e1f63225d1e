# scripts/lib/supervise.sh — `scripts/run --keep-going`: bring back what crashes, with
# backoff, so that a chaos run (issue #20) can kill any process of the dev mesh and
# watch it recover without a hand. Sourced by scripts/run; log() and pid_alive() (from
# servers.sh) must be defined by the caller, and `dir` set.
#
# Backoff doubles from 1 s up to 30 s and starts again from 1 s once the process has
# stayed up for a minute, so a crash loop costs little and a rare crash heals quickly.

SUPERVISE_BACKOFF_MAX=${SUPERVISE_BACKOFF_MAX:-30}
SUPERVISE_STABLE_S=${SUPERVISE_STABLE_S:-60}

backoff_next() { # seconds → the next wait
    local n=$(($1 * 2))
    echo $((n > SUPERVISE_BACKOFF_MAX ? SUPERVISE_BACKOFF_MAX : n))
}

# supervise NAME CMD... — run CMD (stderr to $dir/NAME.log) and run it again each time it
# exits, until this function's shell gets SIGTERM, which it passes on to CMD. Run it in
# the background: `supervise venta-user build/apps/user/venta-user &`.
supervise() {
    local name=$1 child='' stop=0 backoff=1 started rc
    shift
    trap 'stop=1; [[ -n $child ]] && kill -TERM "$child" 2>/dev/null' TERM
    trap '' INT # Ctrl-C reaches scripts/run, which stops everything in order
    while ((!stop)); do
        started=$SECONDS
        "$@" 2>>"$dir/$name.log" &
        child=$!
        rc=0
        # A trapped signal ends `wait` early; wait again until the child is really gone.
        wait "$child" || rc=$?
        while pid_alive "$child"; do wait "$child" || rc=$?; done
        child=''
        ((stop)) && break
        ((SECONDS - started >= SUPERVISE_STABLE_S)) && backoff=1
        log "$name exited (status $rc); restarting it in ${backoff} s"
        sleep "$backoff" &
        wait $! || true
        backoff=$(backoff_next "$backoff")
    done
}

# keep_servers_up NAME... — once a second, start again any of these servers (started
# by servers.sh's start_NAME, pid in $dir/NAME.pid) that is no longer running, with the
# same backoff. Returns only when the shell is stopped.
keep_servers_up() {
    local -A wait_until=() backoff=()
    local s
    for s in "$@"; do backoff[$s]=1 wait_until[$s]=0; done
    while true; do
        for s in "$@"; do
            pid_alive "$(cat "$dir/$s.pid" 2>/dev/null)" && continue
            ((SECONDS < wait_until[$s])) && continue
            log "$s is not running; starting it again"
            if (start_"$s"); then
                backoff[$s]=1
            else
                wait_until[$s]=$((SECONDS + backoff[$s]))
                backoff[$s]=$(backoff_next "${backoff[$s]}")
            fi
        done
        sleep 1
    done
}
