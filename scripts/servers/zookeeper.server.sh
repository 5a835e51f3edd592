# shellcheck shell=bash
# ZooKeeper 3.8.0 (Debian zookeeper) standalone, for tests/real/servers.rs. Sourced by
# scripts/servers/start.sh, which calls start_zookeeper.
#
# Ports (127.0.0.1 only):
#   17080  ZOOKEEPER_ADMIN  the AdminServer (Jetty; /commands/srvr, /commands/mntr ...),
#                           which has no authentication (information exposure)
#   17081                   the client port (clientPortAddress 127.0.0.1; not exported, but
#                           the ZooKeeper wire protocol can be tested against it)
# The open server holds one znode /ajar_probe besides ZooKeeper's own (node_count 6).
#
# The JVM is started directly (no zkServer.sh, which writes to /var/log): Debian's jar lists
# its libraries in its manifest except the servlet API that the AdminServer needs, and an
# SLF4J binding for the log.

# _zookeeper_cp: the class path for the server and the CLI.
_zookeeper_cp() {
    echo "/usr/share/java/zookeeper.jar:/usr/share/java/servlet-api.jar:/usr/share/java/slf4j-simple.jar"
}

# start_zookeeper: installs ZooKeeper, starts it and creates /ajar_probe.
start_zookeeper() {
    local d=$AJAR_SERVERS_DIR/zookeeper i
    if ! need_pkgs zookeeper libservlet-api-java libslf4j-java; then
        server_failed zookeeper "apt-get install failed"
        return 0
    fi
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
    start_bg zookeeper java -Xmx256m -Djava.net.preferIPv4Stack=true -Dzookeeper.log.dir="$d" \
        -cp "$(_zookeeper_cp)" org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg"
    if ! wait_http http://127.0.0.1:17080/commands/ruok 60; then
        srv_fail zookeeper "AdminServer not answering"
        return 0
    fi
    # srvr says "not currently serving requests" until the server has loaded its database.
    for i in $(seq 100); do
        curl -s --max-time 5 http://127.0.0.1:17080/commands/srvr | grep -q '"error" : null' && break
        if [ "$i" -eq 100 ]; then
            srv_fail zookeeper "not serving after 20 s"
            return 0
        fi
        sleep 0.2
    done
    if ! java -cp "$(_zookeeper_cp)" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        org.apache.zookeeper.ZooKeeperMain -server 127.0.0.1:17081 create /ajar_probe \
        >"$d/zkcli.log" 2>&1 || ! grep -q 'Created /ajar_probe' "$d/zkcli.log"; then
        srv_fail zookeeper "znode /ajar_probe not created"
        return 0
    fi
    srv_expect ZOOKEEPER_ADMIN http://127.0.0.1:17080/commands/srvr 200
    return 0
}
