# shellcheck shell=bash
# NATS server 2.9.10 (Debian nats-server) for tests/real/servers.rs (monitoring) and
# tests/real/nats.rs (client port). Sourced by scripts/servers/start.sh, which calls
# start_nats.
#
# Ports (127.0.0.1 only):
#   17070  NATS_MONITOR    the HTTP monitoring endpoints (-m) of the open server: /varz,
#                          /connz, ... which have no authentication of their own
#   17071  NATS_OPEN       that server's client port: no authorization
#   17160  NATS_TOKEN      token authorization (--auth, a random token)
#   17161  NATS_JETSTREAM  no authorization, JetStream on (memory stream ajar_probe_stream
#                          created at setup; store under $AJAR_SERVERS_DIR)
#   17162  NATS_TLS        no authorization, TLS required (--tls with the throw-away
#                          tests/fixtures/tls/cert.pem): INFO in plain text, then the upgrade

_nats_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# _nats_info PORT: the INFO line the server on PORT sends on accept.
_nats_info() {
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    IFS= read -r -t 5 line <&3
    exec 3<&- 3>&-
    printf '%s\n' "$line"
}

# _nats_create_stream PORT: creates the memory stream ajar_probe_stream through the
# JetStream API (set-up only; the probe never creates anything) and checks the answer.
_nats_create_stream() {
    local port=$1 line i=0
    local body='{"name":"ajar_probe_stream","subjects":["ajar.probe.>"],"storage":"memory"}'
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    # shellcheck disable=SC2016 # $JS is part of the subject, not a variable.
    printf 'CONNECT {"verbose":false,"pedantic":false,"name":"ajar-setup"}\r\nSUB _INBOX.setup 1\r\nPUB $JS.API.STREAM.CREATE.ajar_probe_stream _INBOX.setup %d\r\n%s\r\n' \
        "${#body}" "$body" >&3
    while IFS= read -r -t 5 line <&3; do
        case $line in
        *stream_create_response*'"name":"ajar_probe_stream"'*)
            exec 3<&- 3>&-
            return 0
            ;;
        esac
        i=$((i + 1))
        [ "$i" -gt 10 ] && break
    done
    exec 3<&- 3>&-
    return 1
}

# start_nats: installs nats-server and starts the four servers.
start_nats() {
    local token
    if ! need_pkgs nats-server; then
        server_failed nats "apt-get install failed"
        return 0
    fi
    # A random token (as start.sh's srv_secret), also when only lib.sh was sourced.
    token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    # -a sets the host of both listeners (the monitor's http_host defaults to it).
    start_bg nats nats-server -a 127.0.0.1 -p 17071 -m 17070
    start_bg nats-token nats-server -a 127.0.0.1 -p 17160 --auth "$token"
    mkdir -p "$AJAR_SERVERS_DIR/nats-js"
    start_bg nats-jetstream nats-server -a 127.0.0.1 -p 17161 -js -sd "$AJAR_SERVERS_DIR/nats-js"
    start_bg nats-tls nats-server -a 127.0.0.1 -p 17162 --tls \
        --tlscert "$_nats_here/../../tests/fixtures/tls/cert.pem" \
        --tlskey "$_nats_here/../../tests/fixtures/tls/key.pem"
    if type srv_expect >/dev/null 2>&1; then
        srv_expect NATS_MONITOR http://127.0.0.1:17070/varz 200
    elif wait_port 17070 30; then
        export_server NATS_MONITOR 17070
    fi
    if wait_port 17071 30 && [[ $(_nats_info 17071) == 'INFO {'*'"version":"'* ]] &&
        [[ $(_nats_info 17071) != *auth_required* ]]; then
        export_server NATS_OPEN 17071
    else
        server_failed nats "client port not up"
    fi
    if wait_port 17160 30 && [[ $(_nats_info 17160) == *'"auth_required":true'* ]]; then
        export_server NATS_TOKEN 17160
    else
        server_failed nats-token "not up or INFO without auth_required"
    fi
    if wait_port 17161 30 && [[ $(_nats_info 17161) == *'"jetstream":true'* ]] &&
        _nats_create_stream 17161; then
        export_server NATS_JETSTREAM 17161
    else
        server_failed nats-jetstream "not up, JetStream off, or stream not created"
    fi
    if wait_port 17162 30 && [[ $(_nats_info 17162) == *'"tls_required":true'* ]]; then
        export_server NATS_TLS 17162
    else
        server_failed nats-tls "not up or INFO without tls_required"
    fi
    return 0
}
