#!/usr/bin/env bash
# Starts every real test server on 127.0.0.1: sources scripts/servers/lib.sh and each
# scripts/servers/*.server.sh, then calls every start_<family> function they define.
#
#   AJAR_SERVERS_DIR  scratch directory (configs, data, logs, pids); made here if unset
#   AJAR_SERVERS_ENV  the NAME=127.0.0.1:PORT table for the tests; $AJAR_SERVERS_DIR/servers.env if unset
#   AJAR_SERVERS_ONLY families to start ("redis mysql"); all when unset
#
# A server that does not come up is reported on stderr and left out of the table, so its
# tests fail under CI=true; this script itself exits 0 so that the other servers' tests run.
# scripts/servers/stop.sh stops everything it started, by PID.
#
# Fixed ports, 127.0.0.1 only (each family file lists its own):
#   17010-17013 etcd          17060-17063 RabbitMQ      17130-17131 MariaDB     17190-17191 RabbitMQ (no guest)
#   17020-17023 InfluxDB      17070-17071 NATS          17150       ZooKeeper (SASL)  17200-17201 Tarantool
#   17030-17031 Prometheus    17080-17081 ZooKeeper     17160-17162 NATS        17210       rsync daemon
#   17040-17041 registry      17090-17093 webdis        17170       beanstalkd  17220-17221 slapd
#   17050-17055 ClickHouse    17100-17102 Redis         17180-17183 Mosquitto   17240-17242 MongoDB emulators
#   178xx       web panels    17110-17111 memcached     17120-17123 PostgreSQL
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ -z "${AJAR_SERVERS_DIR:-}" ]; then
    AJAR_SERVERS_DIR=$(mktemp -d /tmp/ajar-servers.XXXXXX)
fi
export AJAR_SERVERS_DIR
export AJAR_SERVERS_ENV=${AJAR_SERVERS_ENV:-$AJAR_SERVERS_DIR/servers.env}
mkdir -p "$AJAR_SERVERS_DIR"
touch "$AJAR_SERVERS_ENV" "$AJAR_SERVERS_DIR/pids"

# shellcheck source=scripts/servers/lib.sh
. "$here/lib.sh"

# srv_secret: 16 random bytes as hex, for the passwords of the protected servers (the tests
# never need them: they only check that the server refuses without one).
srv_secret() {
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

# srv_fail NAME WHY: server_failed, plus the end of NAME's log, so a CI log shows the cause
# (the scratch directory is removed by stop.sh).
srv_fail() {
    server_failed "$1" "$2"
    if [ -s "$AJAR_SERVERS_DIR/$1.log" ]; then
        tail -n 15 "$AJAR_SERVERS_DIR/$1.log" | sed "s/^/servers: $1: /" >&2
    fi
}

# srv_status URL [CURL ARGS...]: the HTTP status URL answers (000 when it does not).
srv_status() {
    local url=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url"
}

# srv_expect NAME URL STATUS [CURL ARGS...]: waits for URL, checks it answers STATUS, and only
# then publishes NAME (the server is in the configuration the tests expect).
srv_expect() {
    local name=$1 url=$2 want=$3 got port
    shift 3
    port=${url#http://127.0.0.1:}
    port=${port%%/*}
    if ! wait_http "$url" 90; then
        srv_fail "$name" "$url not answering"
        return 1
    fi
    got=$(srv_status "$url" "$@")
    if [ "$got" != "$want" ]; then
        srv_fail "$name" "$url answered $got, not $want"
        return 1
    fi
    export_server "$name" "$port"
}

for family in "$here"/*.server.sh; do
    [ -e "$family" ] || continue
    # shellcheck source=/dev/null
    . "$family"
done

began=$(date +%s)
for start in $(declare -F | awk '$3 ~ /^start_/ && $3 != "start_bg" { print $3 }'); do
    # AJAR_SERVERS_ONLY="redis mysql": start only these families (for working on one).
    if [ -n "${AJAR_SERVERS_ONLY:-}" ] && [[ " $AJAR_SERVERS_ONLY " != *" ${start#start_} "* ]]; then
        continue
    fi
    t0=$(date +%s)
    "$start" || server_failed "$start" "exited $?"
    echo "servers: $start took $(($(date +%s) - t0))s" >&2
done
echo "servers: $(wc -l < "$AJAR_SERVERS_ENV") up in $(($(date +%s) - began))s ($AJAR_SERVERS_ENV)" >&2
exit 0
