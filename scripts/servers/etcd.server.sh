# shellcheck shell=bash
# etcd 3.4.23 (Debian etcd-server) for tests/real/servers.rs, in two single-member clusters.
# Sourced by scripts/servers/start.sh, which calls start_etcd.
#
# Ports (127.0.0.1 only):
#   17010  ETCD_OPEN  client API, no authentication; keys /ajar_probe/a, /b, /c
#   17011             its peer port (not exported)
#   17012  ETCD_AUTH  client API with `auth enable` (user root, a random password); key /ajar_probe/a
#   17013             its peer port (not exported)

# _etcd_member NAME CLIENT PEER: one etcd member with its data in $AJAR_SERVERS_DIR/etcd-NAME.
_etcd_member() {
    local name=$1 client=$2 peer=$3
    start_bg "etcd-$name" etcd --name "ajar-$name" --data-dir "$AJAR_SERVERS_DIR/etcd-$name" \
        --listen-client-urls "http://127.0.0.1:$client" \
        --advertise-client-urls "http://127.0.0.1:$client" \
        --listen-peer-urls "http://127.0.0.1:$peer" \
        --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
        --initial-cluster "ajar-$name=http://127.0.0.1:$peer" \
        --initial-cluster-state new
}

# _etcdctl PORT ARGS...: etcdctl (v3 API) against the member on PORT.
_etcdctl() {
    local port=$1
    shift
    ETCDCTL_API=3 etcdctl --endpoints="http://127.0.0.1:$port" --dial-timeout=5s "$@" >/dev/null
}

# start_etcd: installs etcd, starts both members, writes the keys, turns auth on in one.
start_etcd() {
    if ! need_pkgs etcd-server etcd-client; then
        server_failed etcd "apt-get install failed"
        return 0
    fi
    _etcd_member open 17010 17011
    _etcd_member auth 17012 17013
    if wait_http http://127.0.0.1:17010/version 60 &&
        _etcdctl 17010 put /ajar_probe/a 1 &&
        _etcdctl 17010 put /ajar_probe/b 2 &&
        _etcdctl 17010 put /ajar_probe/c 3; then
        srv_expect ETCD_OPEN http://127.0.0.1:17010/version 200
    else
        srv_fail etcd-open "no keys written"
    fi
    if wait_http http://127.0.0.1:17012/version 60 &&
        _etcdctl 17012 put /ajar_probe/a 1 &&
        _etcdctl 17012 user add "root:$(srv_secret)" &&
        _etcdctl 17012 user grant-role root root &&
        _etcdctl 17012 auth enable; then
        # With auth on, an anonymous range is refused with 400 "user name is empty".
        srv_expect ETCD_AUTH http://127.0.0.1:17012/v3/kv/range 400 \
            -X POST -d '{"key":"AA==","range_end":"AA==","count_only":true}'
    else
        srv_fail etcd-auth "auth not enabled"
    fi
    return 0
}
