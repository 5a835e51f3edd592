# shellcheck shell=bash
# PostgreSQL 15 (Debian postgresql-15) for tests/real/postgres.rs: four clusters made by
# initdb in $AJAR_SERVERS_DIR/pg-NAME, each a plain `postgres` process run as the postgres
# user (initdb and postgres refuse root). Sourced by scripts/servers/start.sh, which calls
# start_postgres.
#
# Ports (127.0.0.1 only):
#   17120  PG_TRUST    auth trust; database ajar_probe_db; TLS on (self-signed) when openssl is there
#   17121  PG_SCRAM    auth scram-sha-256, postgres has a random password
#   17122  PG_DEFAULT  auth scram-sha-256, postgres:postgres; database ajar_probe_db
#   17123  PG_NOHBA    pg_hba.conf has no host line: "no pg_hba.conf entry for host"

_PG_BIN=/usr/lib/postgresql/15/bin

# _pg_as_owner CMD...: CMD as the postgres user when running as root.
_pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
    else
        "$@"
    fi
}

# _pg_cluster NAME PORT AUTH PASSWORD: initdb with AUTH for every rule, then start it.
_pg_cluster() {
    local name=$1 port=$2 auth=$3 password=$4 dir="$AJAR_SERVERS_DIR/pg-$1"
    mkdir -p "$dir"
    printf '%s\n' "$password" > "$dir.pw"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir" "$dir.pw"
    fi
    _pg_as_owner "$_PG_BIN/initdb" -D "$dir/data" -U postgres --auth="$auth" \
        --pwfile="$dir.pw" >"$AJAR_SERVERS_DIR/pg-$name-initdb.log" 2>&1 || return 1
    rm -f "$dir.pw"
}

# _pg_start NAME PORT [-c setting=value...]: the cluster's postgres on 127.0.0.1:PORT.
_pg_start() {
    local name=$1 port=$2 dir="$AJAR_SERVERS_DIR/pg-$1"
    shift 2
    if [ "$(id -u)" = 0 ]; then
        start_bg "pg-$name" setpriv --reuid=postgres --regid=postgres --init-groups -- \
            "$_PG_BIN/postgres" -D "$dir/data" -p "$port" -k "$dir" \
            -c listen_addresses=127.0.0.1 "$@"
    else
        start_bg "pg-$name" "$_PG_BIN/postgres" -D "$dir/data" -p "$port" -k "$dir" \
            -c listen_addresses=127.0.0.1 "$@"
    fi
    wait_port "$port" 60
}

# _pg_sql PORT PASSWORD SQL: one statement as postgres over TCP.
_pg_sql() {
    PGPASSWORD=$2 PGCONNECT_TIMEOUT=10 psql -X -q -h 127.0.0.1 -p "$1" -U postgres \
        -d postgres -v ON_ERROR_STOP=1 -c "$3" >/dev/null 2>&1
}

# start_postgres: installs PostgreSQL 15, makes and starts the four clusters.
start_postgres() {
    if ! need_pkgs postgresql-15 postgresql-client-15; then
        server_failed postgres "apt-get install failed"
        return 0
    fi
    # The postgres user must reach its data directories under the scratch directory.
    chmod o+x "$AJAR_SERVERS_DIR"
    local secret tls=()
    secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

    if _pg_cluster trust 17120 trust unused; then
        local data="$AJAR_SERVERS_DIR/pg-trust/data"
        if command -v openssl >/dev/null &&
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
                -keyout "$data/server.key" -out "$data/server.crt" >/dev/null 2>&1; then
            [ "$(id -u)" = 0 ] && chown postgres: "$data/server.key" "$data/server.crt"
            chmod 600 "$data/server.key"
            tls=(-c ssl=on)
        fi
        if _pg_start trust 17120 "${tls[@]}" &&
            _pg_sql 17120 "" "CREATE DATABASE ajar_probe_db"; then
            export_server PG_TRUST 17120
        else
            server_failed pg-trust "not started or no database created"
        fi
    else
        server_failed pg-trust "initdb failed"
    fi

    if _pg_cluster scram 17121 scram-sha-256 "$secret" && _pg_start scram 17121; then
        export_server PG_SCRAM 17121
    else
        server_failed pg-scram "not started"
    fi

    if _pg_cluster default 17122 scram-sha-256 postgres && _pg_start default 17122 &&
        _pg_sql 17122 postgres "CREATE DATABASE ajar_probe_db"; then
        export_server PG_DEFAULT 17122
    else
        server_failed pg-default "not started or no database created"
    fi

    if _pg_cluster nohba 17123 trust unused; then
        # Only the Unix socket is allowed: a TCP client matches no line.
        echo "local all all trust" > "$AJAR_SERVERS_DIR/pg-nohba/data/pg_hba.conf"
        if _pg_start nohba 17123; then
            export_server PG_NOHBA 17123
        else
            server_failed pg-nohba "not started"
        fi
    else
        server_failed pg-nohba "initdb failed"
    fi
    return 0
}
