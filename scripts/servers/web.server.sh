# Web admin panels from Debian bookworm packages, for tests/real/web.rs: phpMyAdmin 5.2.1
# and Adminer 4.8.1 behind one nginx + one php-fpm 8.2 pool, over one MariaDB 10.11, and
# Jupyter Notebook 6.4.12. Sourced by scripts/servers/start.sh, which calls start_web.
#
# Ports (127.0.0.1 only):
#   17806  MariaDB (not exported: the panels' back end; root has an empty password)
#   17880  PMA_CONFIG     phpMyAdmin at /phpmyadmin/, auth_type 'config' as root: open
#   17881  PMA_COOKIE     phpMyAdmin at /phpmyadmin/, cookie auth, AllowNoPassword false,
#                         and Adminer at /adminer/ on the same server (two products, one port)
#   17882  PMA_NOPASS     phpMyAdmin at /phpmyadmin/, cookie auth, AllowNoPassword true
#   17883  ADMINER        Adminer at /adminer/ alone (Debian's conf.php with its plugins)
#   17888  JUPYTER_OPEN   Jupyter Notebook, empty token and password
#   17889  JUPYTER_TOKEN  Jupyter Notebook, a random token
# The open servers hold a database `ajar_probe_db` (MariaDB) and a notebook
# `ajar_probe.ipynb` (Jupyter) for the tests to find by name.
#
# Everything lives in $AJAR_SERVERS_DIR/web: each phpMyAdmin instance is a copy of
# /usr/share/phpmyadmin whose libraries/vendor_config.php points at its own config.inc.php
# and temp dir (Debian hard-codes /etc/phpmyadmin/config.inc.php there), so the global
# /etc files are never touched.

# _web_secret BYTES: BYTES random bytes as hex (blowfish secret, Jupyter token).
_web_secret() {
    od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# _web_free NAME PORT...: true when no PORT accepts connections yet; a listener left from
# an earlier run would otherwise answer for the server about to start.
_web_free() {
    local name=$1 port
    shift
    for port in "$@"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            server_failed "$name" "127.0.0.1:$port is already taken"
            return 1
        fi
    done
}

# _web_mariadb DIR: a MariaDB on 127.0.0.1:17806 with real grants (root@localhost and
# root@127.0.0.1 without a password, as mariadb-install-db's "normal" root) and the
# database ajar_probe_db with one small table.
_web_mariadb() {
    local d=$1 as_root=()
    [ "$(id -u)" -eq 0 ] && as_root=(--user=root)
    mkdir -p "$d/mariadb"
    if ! mariadb-install-db --no-defaults "${as_root[@]}" --datadir="$d/mariadb" \
        --auth-root-authentication-method=normal --skip-test-db --innodb-log-file-size=16M \
        >"$AJAR_SERVERS_DIR/web-mariadb-install.log" 2>&1; then
        server_failed web-mariadb "mariadb-install-db failed (see web-mariadb-install.log)"
        return 1
    fi
    start_bg web-mariadb mariadbd --no-defaults "${as_root[@]}" --datadir="$d/mariadb" \
        --socket="$d/mariadb.sock" --pid-file="$d/mariadb.pid" --port=17806 \
        --bind-address=127.0.0.1 --skip-name-resolve --innodb-buffer-pool-size=32M \
        --innodb-log-file-size=16M
    if ! wait_port 17806 60; then
        server_failed web-mariadb "port 17806 not answering"
        return 1
    fi
    if ! mariadb --no-defaults --socket="$d/mariadb.sock" -uroot -e "
        CREATE DATABASE IF NOT EXISTS ajar_probe_db;
        CREATE TABLE IF NOT EXISTS ajar_probe_db.ajar_probe_table (id INT PRIMARY KEY);
        INSERT IGNORE INTO ajar_probe_db.ajar_probe_table VALUES (1), (2), (3);" \
        >>"$AJAR_SERVERS_DIR/web-mariadb.log" 2>&1; then
        server_failed web-mariadb "could not create ajar_probe_db"
        return 1
    fi
}

# _web_pma DIR NAME AUTH NOPASS: a phpMyAdmin copy at DIR/www-NAME/phpmyadmin with auth_type
# AUTH (config | cookie) and AllowNoPassword NOPASS (true | false), logging in as root over
# TCP to the MariaDB above.
_web_pma() {
    local d=$1 name=$2 auth=$3 nopass=$4
    local pma=$d/www-$name/phpmyadmin
    mkdir -p "$d/www-$name" "$d/pma-$name-tmp"
    cp /usr/share/nginx/html/index.html "$d/www-$name/index.html"
    cp -a /usr/share/phpmyadmin "$pma"
    sed -i -e "s|'/var/lib/phpmyadmin/tmp/'|'$d/pma-$name-tmp/'|" \
        -e "s|'/etc/phpmyadmin/config.inc.php'|'$d/pma-$name.config.inc.php'|" \
        "$pma/libraries/vendor_config.php"
    grep -q "$d/pma-$name.config.inc.php" "$pma/libraries/vendor_config.php" || return 1
    cat >"$d/pma-$name.config.inc.php" <<EOF
<?php
// phpMyAdmin instance $name of ajar's real-server tests (scripts/servers/web.server.sh).
\$cfg['blowfish_secret'] = '$(_web_secret 16)';
\$i = 1;
\$cfg['Servers'][\$i]['auth_type'] = '$auth';
\$cfg['Servers'][\$i]['host'] = '127.0.0.1';
\$cfg['Servers'][\$i]['port'] = '17806';
\$cfg['Servers'][\$i]['connect_type'] = 'tcp';
\$cfg['Servers'][\$i]['AllowNoPassword'] = $nopass;
EOF
    if [ "$auth" = config ]; then
        cat >>"$d/pma-$name.config.inc.php" <<'EOF'
$cfg['Servers'][$i]['user'] = 'root';
$cfg['Servers'][$i]['password'] = '';
EOF
    fi
    cat >>"$d/pma-$name.config.inc.php" <<'EOF'
$cfg['UploadDir'] = '';
$cfg['SaveDir'] = '';
EOF
}

# _web_nginx_server DIR PORT NAME: one nginx server block serving DIR/www-NAME through
# php-fpm the way Debian's /etc/nginx/snippets/fastcgi-php.conf does (inlined: nginx
# resolves that snippet's relative include against our prefix).
_web_nginx_server() {
    cat <<EOF
    server {
        listen 127.0.0.1:$2;
        server_name localhost;
        root $1/www-$3;
        index index.php conf.php index.html;
        location ~ \.php(/|\$) {
            fastcgi_split_path_info ^(.+?\.php)(/.*)\$;
            try_files \$fastcgi_script_name =404;
            set \$path_info \$fastcgi_path_info;
            fastcgi_param PATH_INFO \$path_info;
            fastcgi_index index.php;
            include /etc/nginx/fastcgi.conf;
            fastcgi_pass unix:$1/php-fpm.sock;
        }
    }
EOF
}

# _web_php_nginx DIR: php-fpm (one pool, socket in DIR) and nginx (one process, four ports).
_web_php_nginx() {
    local d=$1 fpm_root=() who
    who=$(id -un)
    [ "$(id -u)" -eq 0 ] && fpm_root=(-R)
    mkdir -p "$d/php-sessions" "$d/nginx-tmp" "$d/www-cookie/adminer" "$d/www-adminer/adminer"
    # Debian serves Adminer as Alias /adminer -> /etc/adminer, index conf.php (which loads
    # /usr/share/adminer/adminer.php with its plugins); a copy keeps /etc out of the test.
    cp /etc/adminer/conf.php "$d/www-cookie/adminer/conf.php"
    cp /etc/adminer/conf.php "$d/www-adminer/adminer/conf.php"
    cp /usr/share/nginx/html/index.html "$d/www-adminer/index.html"
    cat >"$d/php-fpm.conf" <<EOF
[global]
pid = $d/php-fpm.pid
error_log = $d/php-fpm-error.log
daemonize = no

[web]
user = $who
group = $(id -gn)
listen = $d/php-fpm.sock
listen.mode = 0666
pm = static
pm.max_children = 6
catch_workers_output = yes
php_admin_value[session.save_path] = $d/php-sessions
php_admin_value[error_log] = $d/php-error.log
EOF
    start_bg web-php-fpm php-fpm8.2 -F "${fpm_root[@]}" -y "$d/php-fpm.conf"
    # nginx answers 502 until the pool's socket exists: wait for it (up to 20 s).
    local i
    for i in $(seq 200); do
        [ -S "$d/php-fpm.sock" ] && break
        sleep 0.1
    done
    cat >"$d/nginx.conf" <<EOF
user $who;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/nginx-error.log;
daemon off;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $d/nginx-access.log;
    client_body_temp_path $d/nginx-tmp/body;
    fastcgi_temp_path $d/nginx-tmp/fastcgi;
    proxy_temp_path $d/nginx-tmp/proxy;
    uwsgi_temp_path $d/nginx-tmp/uwsgi;
    scgi_temp_path $d/nginx-tmp/scgi;
$(_web_nginx_server "$d" 17880 config)
$(_web_nginx_server "$d" 17881 cookie)
$(_web_nginx_server "$d" 17882 nopass)
$(_web_nginx_server "$d" 17883 adminer)
}
EOF
    start_bg web-nginx nginx -p "$d" -e "$d/nginx-error.log" -c "$d/nginx.conf"
}

# _web_jupyter DIR NAME PORT TOKEN: a Jupyter Notebook on PORT with its own HOME and
# JUPYTER_* dirs, serving DIR/jupyter-NAME/notebooks (which holds ajar_probe.ipynb).
_web_jupyter() {
    local d=$1 name=$2 port=$3 token=$4 home as_root=()
    home=$d/jupyter-$name
    [ "$(id -u)" -eq 0 ] && as_root=(--allow-root)
    mkdir -p "$home/notebooks" "$home/config" "$home/data" "$home/runtime" "$home/ipython"
    printf '%s\n' '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}' \
        >"$home/notebooks/ajar_probe.ipynb"
    start_bg "web-jupyter-$name" env HOME="$home" JUPYTER_CONFIG_DIR="$home/config" \
        JUPYTER_DATA_DIR="$home/data" JUPYTER_RUNTIME_DIR="$home/runtime" \
        IPYTHONDIR="$home/ipython" \
        jupyter-notebook --no-browser --ip=127.0.0.1 --port="$port" --port-retries=0 \
        --notebook-dir="$home/notebooks" "${as_root[@]}" \
        --NotebookApp.token="$token" --NotebookApp.password=''
}

# _web_check NAME URL STATUS WORD: waits for URL and checks that it answers STATUS with WORD
# in the body, so that the set-up is what the tests expect; says why on stderr if not.
_web_check() {
    local name=$1 url=$2 want=$3 word=$4 got body
    if ! wait_http "$url" 60; then
        server_failed "$name" "$url not answering"
        return 1
    fi
    body=$AJAR_SERVERS_DIR/web/ready-$name.body
    got=$(curl -s -o "$body" -w '%{http_code}' --max-time 10 "$url")
    if [ "$got" != "$want" ] || ! grep -qF -- "$word" "$body"; then
        server_failed "$name" "$url answered $got without '$word' (wanted $want; body: $body)"
        return 1
    fi
}

# _web_ready NAME URL STATUS WORD: exports NAME (the port of URL) when _web_check passes.
_web_ready() {
    local port=${2#http://127.0.0.1:}
    _web_check "$@" && export_server "$1" "${port%%/*}"
    return 0
}

# start_web: installs the packages, starts MariaDB, php-fpm + nginx and two Jupyters, and
# exports the servers that answer as they should.
start_web() {
    local d=$AJAR_SERVERS_DIR/web
    mkdir -p "$d"
    # phpmyadmin's debconf questions: no dbconfig-common database, no web server to set up.
    printf '%s\n' 'phpmyadmin phpmyadmin/dbconfig-install boolean false' \
        'phpmyadmin phpmyadmin/reconfigure-webserver multiselect' | debconf-set-selections
    if ! need_pkgs nginx php-fpm mariadb-server phpmyadmin adminer jupyter-notebook; then
        server_failed web "apt-get install failed"
        return 0
    fi
    local open=0 token=0
    _web_free JUPYTER_OPEN 17888 && _web_jupyter "$d" open 17888 '' && open=1
    _web_free JUPYTER_TOKEN 17889 && _web_jupyter "$d" token 17889 "$(_web_secret 24)" && token=1
    if _web_free web 17806 17880 17881 17882 17883 && _web_mariadb "$d" &&
        _web_pma "$d" config config true && _web_pma "$d" cookie cookie false &&
        _web_pma "$d" nopass cookie true; then
        _web_php_nginx "$d"
        _web_ready PMA_CONFIG http://127.0.0.1:17880/phpmyadmin/ 200 'db=ajar_probe_db'
        # PMA_COOKIE's server also hosts Adminer (tests/real/web.rs expects both there).
        _web_check PMA_COOKIE http://127.0.0.1:17881/adminer/ 200 '<title>Login - Adminer' &&
            _web_ready PMA_COOKIE http://127.0.0.1:17881/phpmyadmin/ 200 'name="pma_password"'
        _web_ready PMA_NOPASS http://127.0.0.1:17882/phpmyadmin/ 200 'name="pma_password"'
        _web_ready ADMINER http://127.0.0.1:17883/adminer/ 200 '<title>Login - Adminer'
    else
        server_failed web-nginx "no MariaDB or no phpMyAdmin copies: PMA_* and ADMINER not started"
    fi
    # Jupyter started first, so it has had the longest to come up.
    [ "$open" = 1 ] &&
        _web_ready JUPYTER_OPEN http://127.0.0.1:17888/api/contents 200 '"ajar_probe.ipynb"'
    [ "$token" = 1 ] &&
        _web_ready JUPYTER_TOKEN http://127.0.0.1:17889/api/contents 403 '"Forbidden"'
    return 0
}
