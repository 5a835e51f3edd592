# Shared helpers for the real test servers. Sourced by scripts/servers/start.sh and by each
# scripts/servers/*.server.sh, which defines one `start_<name>` function per family.
#
# Contract:
#   AJAR_SERVERS_DIR  a scratch directory for configs, data and logs (made by start.sh)
#   AJAR_SERVERS_ENV  the file tests read: one NAME=host:port line per running server
#   pids are recorded in $AJAR_SERVERS_DIR/pids and killed by scripts/servers/stop.sh
# Servers listen on 127.0.0.1 only. A server that fails to start is reported on stderr and
# left out of AJAR_SERVERS_ENV, so its tests fail under CI=true.

# need_pkgs PKG...: installs the Debian packages that are missing (no recommends, no
# service start: policy-rc.d forbids it, there is no systemd here anyway).
need_pkgs() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "servers: installing ${missing[*]}" >&2
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    fi
    if [ -z "${AJAR_APT_UPDATED:-}" ]; then
        apt-get update -qq >&2 || true
        export AJAR_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# start_bg NAME CMD...: starts CMD in the background, logging to $AJAR_SERVERS_DIR/NAME.log,
# and records its PID for stop.sh.
start_bg() {
    local name=$1; shift
    setsid "$@" >"$AJAR_SERVERS_DIR/$name.log" 2>&1 < /dev/null &
    echo "$! $name" >> "$AJAR_SERVERS_DIR/pids"
}

# wait_port PORT [SECONDS]: waits until 127.0.0.1:PORT accepts a connection.
wait_port() {
    local port=$1 limit=${2:-60} i=0
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -gt $((limit * 10)) ] && return 1
        sleep 0.1
    done
}

# wait_http URL [SECONDS]: waits until URL answers any HTTP status (curl must be present).
wait_http() {
    local url=$1 limit=${2:-60} i=0
    while ! curl -s -o /dev/null --max-time 2 "$url"; do
        i=$((i + 1))
        [ "$i" -gt $((limit * 5)) ] && return 1
        sleep 0.2
    done
}

# export_server NAME PORT: publishes a running server to the tests as NAME=127.0.0.1:PORT.
export_server() {
    echo "$1=127.0.0.1:$2" >> "$AJAR_SERVERS_ENV"
}

# server_failed NAME WHY: reports a server that could not start (its tests then fail in CI).
server_failed() {
    echo "servers: $1 did not start: $2 (log: $AJAR_SERVERS_DIR/$1.log)" >&2
}
