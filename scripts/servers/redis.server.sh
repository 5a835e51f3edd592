# shellcheck shell=bash
# Redis 7.0.15 (Debian redis-server) for tests/real/redis.rs. Sourced by
# scripts/servers/start.sh, which calls start_redis.
#
# Ports (127.0.0.1 only):
#   17100  REDIS_OPEN  no password; keys ajar_probe_a, ajar_probe_b in db0, ajar_probe_c in db3
#   17101  REDIS_AUTH  requirepass (a random password); key ajar_probe_a in db0
#   17102  REDIS_SENTINEL  a Sentinel (redis-server --sentinel, no password) monitoring
#                      17100 as master ajar_probe_master
# No persistence (save "", appendonly no): data lives in memory under $AJAR_SERVERS_DIR.

# _redis_secret: 16 random bytes as hex (start.sh's srv_secret, which a bare lib.sh lacks).
_redis_secret() {
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

# _redis_start NAME PORT [PASSWORD]: one redis-server with its config in $AJAR_SERVERS_DIR/redis-NAME.
_redis_start() {
    local name=$1 port=$2 pass=${3:-} d=$AJAR_SERVERS_DIR/redis-$1
    mkdir -p "$d"
    {
        echo "bind 127.0.0.1"
        echo "port $port"
        echo "dir $d"
        echo "save \"\""
        echo "appendonly no"
        echo "daemonize no"
        [ -n "$pass" ] && echo "requirepass $pass"
    } >"$d/redis.conf"
    chmod 600 "$d/redis.conf"
    start_bg "redis-$name" redis-server "$d/redis.conf"
    wait_port "$port" 30
}

# start_redis: installs Redis, starts the open and the password-protected server, writes the
# keys, and publishes each only once it answers as the tests expect.
start_redis() {
    local pass
    if ! need_pkgs redis-server redis-tools; then
        server_failed redis "apt-get install failed"
        return 0
    fi
    pass=$(_redis_secret)
    if _redis_start open 17100 &&
        redis-cli -h 127.0.0.1 -p 17100 set ajar_probe_a 1 >/dev/null &&
        redis-cli -h 127.0.0.1 -p 17100 set ajar_probe_b 2 >/dev/null &&
        redis-cli -h 127.0.0.1 -p 17100 -n 3 set ajar_probe_c 3 >/dev/null &&
        [ "$(redis-cli -h 127.0.0.1 -p 17100 dbsize)" = 2 ]; then
        export_server REDIS_OPEN 17100
    else
        server_failed redis-open "not up or keys not written"
    fi
    if _redis_start auth 17101 "$pass" &&
        REDISCLI_AUTH=$pass redis-cli -h 127.0.0.1 -p 17101 set ajar_probe_a 1 >/dev/null &&
        redis-cli -h 127.0.0.1 -p 17101 ping 2>&1 | grep -q NOAUTH; then
        export_server REDIS_AUTH 17101
    else
        server_failed redis-auth "not up, key not written, or PING not refused"
    fi
    _redis_sentinel 17102 17100
    return 0
}

# _redis_sentinel PORT MASTER: a Sentinel monitoring the master on MASTER (it rewrites its
# own config file, hence one of its own in $AJAR_SERVERS_DIR/redis-sentinel).
_redis_sentinel() {
    local port=$1 master=$2 d=$AJAR_SERVERS_DIR/redis-sentinel
    mkdir -p "$d"
    {
        echo "bind 127.0.0.1"
        echo "port $port"
        echo "dir $d"
        echo "daemonize no"
        echo "sentinel monitor ajar_probe_master 127.0.0.1 $master 1"
    } >"$d/sentinel.conf"
    start_bg redis-sentinel redis-server "$d/sentinel.conf" --sentinel
    if wait_port "$port" 30 &&
        redis-cli -h 127.0.0.1 -p "$port" info sentinel 2>&1 | grep -q '^sentinel_masters:1'; then
        export_server REDIS_SENTINEL "$port"
    else
        server_failed redis-sentinel "not up or not monitoring its master"
    fi
}
