# shellcheck shell=bash
# ClickHouse 18.16.1 (Debian clickhouse-server) for tests/real/servers.rs (HTTP interface)
# and tests/real/clickhouse.rs (native TCP protocol). Sourced by scripts/servers/start.sh,
# which calls start_clickhouse.
#
# Ports (127.0.0.1 only; listen_host 127.0.0.1):
#   17050  CLICKHOUSE_OPEN         HTTP interface, user `default` with an empty password
#                                  (the package's users.xml); database ajar_probe_db with
#                                  an empty table, customers
#   17051  CLICKHOUSE_NATIVE_OPEN  its native TCP port
#   17052                          its interserver port (not exported)
#   17053  CLICKHOUSE_AUTH         HTTP interface, user `default` with a password (a random
#                                  one); the same database and table
#   17054  CLICKHOUSE_NATIVE_AUTH  its native TCP port
#   17055                          its interserver port (not exported)
# 18.16 refuses a missing password with "Code: 194 ... Password required for user default"
# (HTTP 401, or a native Exception packet) and a wrong one with "Code: 193 ... Wrong
# password" (newer releases say 516).

# _clickhouse_start NAME HTTP TCP INTERSERVER PASSWORD: writes config.xml and users.xml (a
# trimmed copy of the package's files) into $AJAR_SERVERS_DIR/clickhouse-NAME and starts it.
_clickhouse_start() {
    local name=$1 http=$2 tcp=$3 inter=$4 pass=$5 d=$AJAR_SERVERS_DIR/clickhouse-$1
    mkdir -p "$d/data" "$d/tmp" "$d/format_schemas"
    cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>$d/server.log</log>
        <errorlog>$d/error.log</errorlog>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$http</http_port>
    <tcp_port>$tcp</tcp_port>
    <interserver_http_port>$inter</interserver_http_port>
    <max_concurrent_queries>20</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>$d/data/</path>
    <tmp_path>$d/tmp/</tmp_path>
    <format_schema_path>$d/format_schemas/</format_schema_path>
    <users_config>$d/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mlock_executable>false</mlock_executable>
</yandex>
EOF
    cat >"$d/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>1000000000</max_memory_usage>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password>$pass</password>
            <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
    start_bg "clickhouse-$name" clickhouse-server --config-file="$d/config.xml"
}

# _clickhouse_create PORT [CURL ARGS...]: creates ajar_probe_db and an empty table in it,
# ajar_probe_db.customers, over the HTTP interface.
_clickhouse_create() {
    local port=$1 sql
    shift
    wait_http "http://127.0.0.1:$port/ping" 90 || return 1
    for sql in 'CREATE DATABASE ajar_probe_db' \
        'CREATE TABLE ajar_probe_db.customers (id UInt32) ENGINE = Memory'; do
        curl -s -f -o /dev/null --max-time 20 "$@" --data-binary "$sql" \
            "http://127.0.0.1:$port/" || return 1
    done
}

# _clickhouse_native NAME PORT WANT: checks with clickhouse-client, user default and no
# password, that the native port answers as the tests expect (WANT `open`: SHOW DATABASES
# lists ajar_probe_db; `auth`: Code 194), and only then publishes NAME.
_clickhouse_native() {
    local name=$1 port=$2 want=$3 out
    if ! wait_port "$port" 90; then
        srv_fail "clickhouse-$want" "native port $port not answering"
        return 0
    fi
    out=$(clickhouse-client --host 127.0.0.1 --port "$port" --user default \
        -q 'SHOW DATABASES' 2>&1)
    case "$want:$out" in
        open:*ajar_probe_db*) export_server "$name" "$port" ;;
        auth:*"Code: 194"*) export_server "$name" "$port" ;;
        *) srv_fail "clickhouse-$want" "$name: native port $port answered: $(echo "$out" | head -n 1)" ;;
    esac
}

# start_clickhouse: installs ClickHouse, starts both servers, creates the database.
start_clickhouse() {
    local pass
    if ! need_pkgs clickhouse-server clickhouse-client; then
        server_failed clickhouse "apt-get install failed"
        return 0
    fi
    pass=$(srv_secret)
    _clickhouse_start open 17050 17051 17052 ''
    _clickhouse_start auth 17053 17054 17055 "$pass"
    if _clickhouse_create 17050; then
        srv_expect CLICKHOUSE_OPEN 'http://127.0.0.1:17050/?query=SHOW%20DATABASES' 200
        _clickhouse_native CLICKHOUSE_NATIVE_OPEN 17051 open
    else
        srv_fail clickhouse-open "ajar_probe_db not created"
    fi
    if _clickhouse_create 17053 -u "default:$pass"; then
        srv_expect CLICKHOUSE_AUTH 'http://127.0.0.1:17053/?query=SHOW%20DATABASES' 401
        _clickhouse_native CLICKHOUSE_NATIVE_AUTH 17054 auth
    else
        srv_fail clickhouse-auth "ajar_probe_db not created"
    fi
    return 0
}
