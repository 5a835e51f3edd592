# shellcheck shell=bash
# InfluxDB 1.6.7~rc0 (Debian influxdb) for tests/real/servers.rs. Sourced by
# scripts/servers/start.sh, which calls start_influxdb.
#
# Ports (127.0.0.1 only):
#   17020  INFLUXDB_OPEN  HTTP API, auth-enabled = false (the package's default); database ajar_probe_db
#   17021                 its RPC (backup) port, not exported
#   17022  INFLUXDB_AUTH  HTTP API, auth-enabled = true, one admin user (a random password);
#                         database ajar_probe_db
#   17023                 its RPC port, not exported
# Both keep the package's defaults otherwise, so the monitor also writes `_internal`.

# _influxdb_start NAME HTTP RPC AUTH: writes the config of one instance and starts it.
_influxdb_start() {
    local name=$1 http=$2 rpc=$3 auth=$4 d=$AJAR_SERVERS_DIR/influxdb-$1
    mkdir -p "$d"
    cat >"$d/influxdb.conf" <<EOF
reporting-enabled = false
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$d/meta"
[data]
  dir = "$d/data"
  wal-dir = "$d/wal"
[http]
  bind-address = "127.0.0.1:$http"
  auth-enabled = $auth
EOF
    start_bg "influxdb-$name" influxd -config "$d/influxdb.conf"
}

# _influxdb_query PORT STATEMENT [CURL ARGS...]: POSTs one InfluxQL statement; fails unless
# the answer is 200 without an "error".
_influxdb_query() {
    local port=$1 q=$2 body
    shift 2
    body=$(curl -s --max-time 10 -f "$@" -X POST "http://127.0.0.1:$port/query" \
        --data-urlencode "q=$q") || return 1
    case $body in *'"error"'*) return 1 ;; esac
}

# start_influxdb: installs InfluxDB, starts both instances and creates the database.
start_influxdb() {
    local pass
    if ! need_pkgs influxdb; then
        server_failed influxdb "apt-get install failed"
        return 0
    fi
    _influxdb_start open 17020 17021 false
    _influxdb_start auth 17022 17023 true
    if wait_http http://127.0.0.1:17020/ping 60 &&
        _influxdb_query 17020 'CREATE DATABASE ajar_probe_db'; then
        srv_expect INFLUXDB_OPEN 'http://127.0.0.1:17020/query?q=SHOW%20DATABASES' 200
    else
        srv_fail influxdb-open "database not created"
    fi
    pass=$(srv_secret)
    # With auth on and no user yet, InfluxDB 1.x accepts only the creation of an admin.
    if wait_http http://127.0.0.1:17022/ping 60 &&
        _influxdb_query 17022 "CREATE USER ajar_admin WITH PASSWORD '$pass' WITH ALL PRIVILEGES" &&
        _influxdb_query 17022 'CREATE DATABASE ajar_probe_db' -u "ajar_admin:$pass"; then
        srv_expect INFLUXDB_AUTH 'http://127.0.0.1:17022/query?q=SHOW%20DATABASES' 401
    else
        srv_fail influxdb-auth "admin user or database not created"
    fi
    return 0
}
