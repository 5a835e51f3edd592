# shellcheck shell=bash
# webdis 0.1.9 (Debian webdis) in front of Redis 7.0 (Debian redis-server), for
# tests/real/servers.rs. Sourced by scripts/servers/start.sh, which calls start_webdis.
#
# Ports (127.0.0.1 only):
#   17090  WEBDIS_OPEN  webdis with the package's ACL (only DEBUG disabled) over a Redis
#                       without a password; keys ajar_probe_a, ajar_probe_b (DBSIZE 2)
#   17091               that Redis (not exported)
#   17092  WEBDIS_AUTH  the same webdis config over a Redis with requirepass (a random
#                       password; webdis has no redis_auth, so it relays NOAUTH)
#   17093               that Redis (not exported)

# _webdis_start NAME HTTP REDIS [PASSWORD]: one Redis and one webdis in $AJAR_SERVERS_DIR/webdis-NAME.
_webdis_start() {
    local name=$1 http=$2 redis=$3 pass=${4:-} d=$AJAR_SERVERS_DIR/webdis-$1
    mkdir -p "$d"
    {
        echo "bind 127.0.0.1"
        echo "port $redis"
        echo "dir $d"
        echo "save ''"
        echo "appendonly no"
        echo "daemonize no"
        [ -n "$pass" ] && echo "requirepass $pass"
    } >"$d/redis.conf"
    cat >"$d/webdis.json" <<JSON
{
    "redis_host": "127.0.0.1",
    "redis_port": $redis,
    "redis_auth": null,
    "http_host": "127.0.0.1",
    "http_port": $http,
    "threads": 2,
    "daemonize": false,
    "database": 0,
    "acl": [
        { "disabled": ["DEBUG"] }
    ],
    "verbosity": 3,
    "logfile": "$d/webdis.log"
}
JSON
    start_bg "webdis-$name-redis" redis-server "$d/redis.conf"
    wait_port "$redis" 30 || return 1
    start_bg "webdis-$name" webdis "$d/webdis.json"
}

# start_webdis: installs webdis and Redis, starts both pairs, writes the keys.
start_webdis() {
    local pass
    if ! need_pkgs webdis redis-server redis-tools; then
        server_failed webdis "apt-get install failed"
        return 0
    fi
    pass=$(srv_secret)
    if _webdis_start open 17090 17091 &&
        redis-cli -h 127.0.0.1 -p 17091 set ajar_probe_a 1 >/dev/null &&
        redis-cli -h 127.0.0.1 -p 17091 set ajar_probe_b 2 >/dev/null; then
        srv_expect WEBDIS_OPEN http://127.0.0.1:17090/PING 200
    else
        srv_fail webdis-open-redis "Redis not up or keys not written"
    fi
    if _webdis_start auth 17092 17093 "$pass" &&
        REDISCLI_AUTH=$pass redis-cli -h 127.0.0.1 -p 17093 set ajar_probe_a 1 >/dev/null; then
        # webdis answers 200 and relays Redis's refusal: {"PING":[false,"NOAUTH ..."]}.
        if wait_http http://127.0.0.1:17092/PING 30 &&
            curl -s --max-time 5 http://127.0.0.1:17092/PING | grep -q NOAUTH; then
            srv_expect WEBDIS_AUTH http://127.0.0.1:17092/PING 200
        else
            srv_fail webdis-auth "PING did not relay NOAUTH"
        fi
    else
        srv_fail webdis-auth-redis "Redis not up or key not written"
    fi
    return 0
}
