# shellcheck shell=bash
# The Debian rsync daemon (the installed rsync package; `rsync --version` names it) for
# tests/real/rsync.rs. Sourced by scripts/servers/start.sh, which calls start_rsync.
#
# Port (127.0.0.1 only):
#   17210  RSYNC_DAEMON  two listed modules: ajar_open (read only, no authentication) and
#                        ajar_locked (auth users = ajar, a random password in a mode-600
#                        secrets file); each serves an empty directory under $AJAR_SERVERS_DIR

# _rsync_says PORT TEXT: the first line the daemon on PORT answers after its greeting (which
# must be an @RSYNCD line), once it was sent "@RSYNCD: 30.0" and TEXT (a module name).
_rsync_says() {
    local greeting reply
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    IFS= read -r -t 5 greeting <&3
    case $greeting in
    "@RSYNCD: "*) ;;
    *)
        exec 3<&- 3>&-
        return 1
        ;;
    esac
    printf '@RSYNCD: 30.0\n%s\n' "$2" >&3
    IFS= read -r -t 5 reply <&3
    exec 3<&- 3>&-
    printf '%s\n' "$reply"
}

# start_rsync: starts the daemon with both modules, publishing it once ajar_open answers OK
# and ajar_locked asks for authentication.
start_rsync() {
    if ! need_pkgs rsync; then
        server_failed rsync "apt-get install failed"
        return 0
    fi
    local d=$AJAR_SERVERS_DIR/rsync user
    user=$(id -un)
    mkdir -p "$d/open" "$d/locked"
    printf 'ajar:%s\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$d/secrets"
    chmod 600 "$d/secrets"
    {
        echo "pid file = $d/rsyncd.pid"
        echo "use chroot = no"
        echo "reverse lookup = no"
        echo "uid = $user"
        echo "gid = $(id -gn)"
        echo "[ajar_open]"
        echo "    path = $d/open"
        echo "    comment = ajar probe, open"
        echo "    read only = yes"
        echo "[ajar_locked]"
        echo "    path = $d/locked"
        echo "    comment = ajar probe, locked"
        echo "    read only = yes"
        echo "    auth users = ajar"
        echo "    secrets file = $d/secrets"
    } >"$d/rsyncd.conf"
    start_bg rsync-daemon rsync --daemon --no-detach --port=17210 --address=127.0.0.1 \
        --config="$d/rsyncd.conf" --log-file="$d/rsyncd.log"
    if wait_port 17210 30 &&
        [ "$(_rsync_says 17210 ajar_open)" = "@RSYNCD: OK" ] &&
        _rsync_says 17210 ajar_locked | grep -q '^@RSYNCD: AUTHREQD '; then
        export_server RSYNC_DAEMON 17210
    else
        server_failed rsync-daemon "not up, or the modules do not answer as configured"
    fi
    return 0
}
