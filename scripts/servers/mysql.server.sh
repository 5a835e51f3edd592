# shellcheck shell=bash
# MariaDB 10.11 (Debian bookworm mariadb-server) for tests/real/mysql.rs, as two instances
# with their own temporary datadirs. Sourced by scripts/servers/start.sh, which calls
# start_mysql.
#
# Ports (127.0.0.1 only):
#   17130  MYSQL_NOPASS  root with an empty password (mysql_native_password), as
#                        mariadb-install-db --auth-root-authentication-method=normal
#                        leaves it; database ajar_probe_shop
#   17131  MYSQL_AUTH    the same, then every root account given a random password

# _mysql_instance NAME PORT: initialises a datadir (root authenticated by password, which
# is empty until set) and starts mariadbd on PORT.
_mysql_instance() {
    local name=$1 port=$2 dir="$AJAR_SERVERS_DIR/mysql-$1"
    mkdir -p "$dir/data" "$dir/run"
    if ! mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$dir/data" \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$AJAR_SERVERS_DIR/mysql-$name-init.log" 2>&1; then
        return 1
    fi
    start_bg "mysql-$name" mariadbd --no-defaults --user="$(id -un)" --datadir="$dir/data" \
        --bind-address=127.0.0.1 --port="$port" --socket="$dir/run/mysqld.sock" \
        --pid-file="$dir/run/mysqld.pid" --skip-name-resolve --skip-log-bin
}

# _mysql_sql NAME SQL: runs SQL as root over the instance's socket (before a password).
_mysql_sql() {
    mariadb --no-defaults --socket="$AJAR_SERVERS_DIR/mysql-$1/run/mysqld.sock" -uroot -e "$2"
}

# start_mysql: starts both instances, creates the database, sets the root password of one.
start_mysql() {
    if ! need_pkgs mariadb-server mariadb-client; then
        server_failed mysql "apt-get install failed"
        return 0
    fi
    local secret
    secret=$(srv_secret)
    for spec in nopass:17130 auth:17131; do
        local name=${spec%%:*} port=${spec#*:}
        if ! _mysql_instance "$name" "$port"; then
            srv_fail "mysql-$name-init" "mariadb-install-db failed"
            continue
        fi
        if ! wait_port "$port" 60; then
            srv_fail "mysql-$name" "port $port not answering"
            continue
        fi
        local sql="CREATE DATABASE IF NOT EXISTS ajar_probe_shop;"
        if [ "$name" = auth ]; then
            # mariadb-install-db --auth-root-authentication-method=normal makes root at
            # localhost, 127.0.0.1, ::1 and the host name, none with a password: give each
            # one (over TCP from 127.0.0.1, --skip-name-resolve matches root@127.0.0.1).
            for host in localhost 127.0.0.1 ::1 "$(hostname)"; do
                sql="$sql ALTER USER IF EXISTS 'root'@'$host' IDENTIFIED BY '$secret';"
            done
        fi
        if ! _mysql_sql "$name" "$sql" >>"$AJAR_SERVERS_DIR/mysql-$name.log" 2>&1; then
            srv_fail "mysql-$name" "setup SQL failed"
            continue
        fi
        # Publish only the configuration the tests expect: over TCP, root with an empty
        # password is let in by one instance and refused (ERROR 1045) by the other.
        local login
        login=$(mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot \
            --skip-password -e 'SELECT 1' 2>&1)
        case "$name:$login" in
            nopass:*ERROR*) srv_fail "mysql-$name" "root without a password refused: $login" ;;
            nopass:*) export_server MYSQL_NOPASS "$port" ;;
            auth:*"ERROR 1045"*) export_server MYSQL_AUTH "$port" ;;
            auth:*) srv_fail "mysql-$name" "root without a password not refused: $login" ;;
        esac
    done
    return 0
}
