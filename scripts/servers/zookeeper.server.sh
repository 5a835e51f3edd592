# shellcheck shell=bash
# ZooKeeper 3.8.0 (Debian zookeeper) standalone, for tests/real/servers.rs (AdminServer) and
# tests/real/zookeeper.rs (client protocol). Sourced by scripts/servers/start.sh, which calls
# start_zookeeper.
#
# Ports (127.0.0.1 only):
#   17080  ZOOKEEPER_ADMIN  the open server's AdminServer (Jetty; /commands/srvr, /commands/mntr
#                           ...), which has no authentication (information exposure)
#   17081  ZOOKEEPER_OPEN   the open server's client port: no ACL on /, no authentication
#                           required; it holds one znode /ajar_probe besides ZooKeeper's own
#                           (node_count 6)
#   17150  ZOOKEEPER_SASL   a second server that requires SASL for every request
#                           (sessionRequireClientSASLAuth=true, a DigestLoginModule Server
#                           section with one user and a random password); AdminServer off
#
# The JVMs are started directly (no zkServer.sh, which writes to /var/log): Debian's jar lists
# its libraries in its manifest except the servlet API that the AdminServer needs, and an
# SLF4J binding for the log. Heaps are capped at 128 MiB.

# _zookeeper_cp: the class path for the server and the CLI.
_zookeeper_cp() {
    echo "/usr/share/java/zookeeper.jar:/usr/share/java/servlet-api.jar:/usr/share/java/slf4j-simple.jar"
}

# _zookeeper_cli PORT CMD...: runs one ZooKeeperMain command against 127.0.0.1:PORT, printing
# its output (the CLI exits non-zero on some errors; callers grep the output).
_zookeeper_cli() {
    local port=$1
    shift
    java -Xmx64m -cp "$(_zookeeper_cp)" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        org.apache.zookeeper.ZooKeeperMain -server "127.0.0.1:$port" "$@" 2>&1
}

# _zookeeper_secret: 16 random bytes as hex (start.sh's srv_secret, which a bare lib.sh lacks).
_zookeeper_secret() {
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

# _zookeeper_fail NAME WHY: start.sh's srv_fail (the reason and the end of the log) when
# defined, else lib.sh's server_failed, so the file also works with only lib.sh sourced.
_zookeeper_fail() {
    if declare -F srv_fail >/dev/null; then
        srv_fail "$1" "$2"
    else
        server_failed "$1" "$2"
    fi
}

# start_zookeeper: installs ZooKeeper, starts the open and the SASL server, creates
# /ajar_probe in the open one, and publishes each once it answers as the tests expect.
start_zookeeper() {
    if ! need_pkgs zookeeper libservlet-api-java libslf4j-java; then
        server_failed zookeeper "apt-get install failed"
        return 0
    fi
    _zookeeper_open
    _zookeeper_sasl
    return 0
}

# _zookeeper_open: the open standalone server (client port 17081, AdminServer 17080).
_zookeeper_open() {
    local d=$AJAR_SERVERS_DIR/zookeeper i
    mkdir -p "$d/data"
    cat >"$d/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$d/data
clientPort=17081
clientPortAddress=127.0.0.1
admin.enableServer=true
admin.serverAddress=127.0.0.1
admin.serverPort=17080
CFG
    start_bg zookeeper java -Xmx128m -Djava.net.preferIPv4Stack=true -Dzookeeper.log.dir="$d" \
        -cp "$(_zookeeper_cp)" org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg"
    if ! wait_http http://127.0.0.1:17080/commands/ruok 60; then
        _zookeeper_fail zookeeper "AdminServer not answering"
        return 0
    fi
    # srvr says "not currently serving requests" until the server has loaded its database.
    for i in $(seq 100); do
        curl -s --max-time 5 http://127.0.0.1:17080/commands/srvr | grep -q '"error" : null' && break
        if [ "$i" -eq 100 ]; then
            _zookeeper_fail zookeeper "not serving after 20 s"
            return 0
        fi
        sleep 0.2
    done
    if ! _zookeeper_cli 17081 create /ajar_probe >"$d/zkcli.log" ||
        ! grep -q 'Created /ajar_probe' "$d/zkcli.log"; then
        _zookeeper_fail zookeeper "znode /ajar_probe not created"
        return 0
    fi
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://127.0.0.1:17080/commands/srvr)" = 200 ]; then
        export_server ZOOKEEPER_ADMIN 17080
    else
        _zookeeper_fail zookeeper "/commands/srvr does not answer 200"
    fi
    if _zookeeper_cli 17081 ls / >"$d/zkcli-ls.log" && grep -q 'ajar_probe' "$d/zkcli-ls.log"; then
        export_server ZOOKEEPER_OPEN 17081
    else
        _zookeeper_fail zookeeper "ls / on 17081 does not list ajar_probe"
    fi
}

# _zookeeper_sasl: a standalone server on 17150 that closes every session that has not done
# SASL (the tests never log in: they only check that the server refuses without it).
_zookeeper_sasl() {
    local d=$AJAR_SERVERS_DIR/zookeeper-sasl i
    mkdir -p "$d/data"
    cat >"$d/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$d/data
clientPort=17150
clientPortAddress=127.0.0.1
admin.enableServer=false
authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider
sessionRequireClientSASLAuth=true
CFG
    cat >"$d/jaas.conf" <<JAAS
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_x="$(_zookeeper_secret)";
};
JAAS
    chmod 600 "$d/jaas.conf"
    start_bg zookeeper-sasl java -Xmx128m -Djava.net.preferIPv4Stack=true \
        -Dzookeeper.log.dir="$d" -Djava.security.auth.login.config="$d/jaas.conf" \
        -cp "$(_zookeeper_cp)" org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg"
    if ! wait_port 17150 60; then
        _zookeeper_fail zookeeper-sasl "client port 17150 not listening"
        return 0
    fi
    # The CLI (no JAAS Client section, so no SASL) must be refused: the server closes its
    # session with SESSIONCLOSEDREQUIRESASLAUTH. Retried while the server loads its database.
    for i in $(seq 10); do
        _zookeeper_cli 17150 ls / >"$d/zkcli.log"
        if grep -q 'failed to authenticate' "$d/zkcli.log"; then
            export_server ZOOKEEPER_SASL 17150
            return 0
        fi
        sleep 1
    done
    _zookeeper_fail zookeeper-sasl "ls / was not refused for want of SASL"
}
