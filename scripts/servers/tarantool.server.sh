# shellcheck shell=bash
# Tarantool 2.6.0 (Debian bookworm tarantool) for tests/real/tarantool.rs, two instances.
# Sourced by scripts/servers/start.sh, which calls start_tarantool.
#
# Ports (127.0.0.1 only, IPROTO):
#   17200  TARANTOOL_GUEST    space ajar_probe_space, guest granted read on it
#   17201  TARANTOOL_DEFAULT  space ajar_probe_space, guest left with its default rights
# Each instance's snapshots and logs live in $AJAR_SERVERS_DIR/tarantool-NAME.

# _tarantool_start NAME PORT GRANT: one instance from an init.lua in its own work dir; GRANT
# is "yes" to give guest read rights on the space.
_tarantool_start() {
    local name=$1 port=$2 grant=$3 d=$AJAR_SERVERS_DIR/tarantool-$1
    mkdir -p "$d"
    {
        # Listen only once the space and the grant exist, so a greeting means set up.
        echo "box.cfg{work_dir = '$d', log_level = 5}"
        echo "box.once('ajar_probe', function()"
        echo "    local s = box.schema.space.create('ajar_probe_space')"
        echo "    s:create_index('primary')"
        echo "    s:insert{1, 'a'}"
        echo "    s:insert{2, 'b'}"
        if [ "$grant" = yes ]; then
            echo "    box.schema.user.grant('guest', 'read', 'space', 'ajar_probe_space')"
        fi
        echo "end)"
        echo "box.cfg{listen = '127.0.0.1:$port'}"
    } >"$d/init.lua"
    start_bg "tarantool-$name" tarantool "$d/init.lua"
    wait_port "$port" 30
}

# _tarantool_greets PORT: whether the instance on PORT sends its IPROTO greeting.
_tarantool_greets() {
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    IFS= read -r -t 5 line <&3
    exec 3<&- 3>&-
    case $line in "Tarantool 2.6"*"(Binary)"*) return 0 ;; esac
    return 1
}

# start_tarantool: installs Tarantool and starts both instances, publishing each once it greets.
start_tarantool() {
    if ! need_pkgs tarantool; then
        server_failed tarantool "apt-get install failed"
        return 0
    fi
    if _tarantool_start guest 17200 yes && _tarantool_greets 17200; then
        export_server TARANTOOL_GUEST 17200
    else
        server_failed tarantool-guest "not up or no IPROTO greeting"
    fi
    if _tarantool_start default 17201 no && _tarantool_greets 17201; then
        export_server TARANTOOL_DEFAULT 17201
    else
        server_failed tarantool-default "not up or no IPROTO greeting"
    fi
    return 0
}
