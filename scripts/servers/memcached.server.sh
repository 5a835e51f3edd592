# shellcheck shell=bash
# memcached 1.6.18 (Debian bookworm memcached) for tests/real/memcached.rs.
# Sourced by scripts/servers/start.sh, which calls start_memcached.
#
# Ports (127.0.0.1 only, UDP off):
#   17110  MEMCACHED_OPEN  no authentication; three items ajar_probe_a/_b/_c stored at setup
#   17111  MEMCACHED_AUTH  ASCII authentication (-Y authfile, user ajar, a random password)

# _mc PORT TEXT: sends TEXT to the memcached on PORT and prints its answer.
_mc() {
    local port=$1 text=$2 reply
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf '%b' "$text" >&3
    IFS= read -r -t 5 reply <&3
    exec 3<&- 3>&-
    printf '%s\n' "$reply"
}

# start_memcached: installs memcached, starts both servers, stores the items in the open one.
start_memcached() {
    if ! need_pkgs memcached; then
        server_failed memcached "apt-get install failed"
        return 0
    fi
    local auth="$AJAR_SERVERS_DIR/memcached-auth"
    # A random password (as start.sh's srv_secret), also when only lib.sh was sourced.
    printf 'ajar:%s\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$auth"
    chmod 600 "$auth"
    start_bg memcached-open memcached -u "$(id -un)" -l 127.0.0.1 -p 17110 -U 0 -m 16
    start_bg memcached-auth memcached -u "$(id -un)" -l 127.0.0.1 -p 17111 -U 0 -m 16 -Y "$auth"
    if wait_port 17110 30 &&
        [ "$(_mc 17110 'set ajar_probe_a 0 0 1\r\na\r\n')" = $'STORED\r' ] &&
        [ "$(_mc 17110 'set ajar_probe_b 0 0 1\r\nb\r\n')" = $'STORED\r' ] &&
        [ "$(_mc 17110 'set ajar_probe_c 0 0 1\r\nc\r\n')" = $'STORED\r' ]; then
        export_server MEMCACHED_OPEN 17110
    else
        server_failed memcached-open "items not stored"
    fi
    if wait_port 17111 30 &&
        [ "$(_mc 17111 'stats\r\n')" = $'CLIENT_ERROR unauthenticated\r' ]; then
        export_server MEMCACHED_AUTH 17111
    else
        server_failed memcached-auth "stats not refused"
    fi
    return 0
}
