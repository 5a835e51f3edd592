# shellcheck shell=bash
# NATS server 2.9.10 (Debian nats-server) for tests/real/servers.rs. Sourced by
# scripts/servers/start.sh, which calls start_nats.
#
# Ports (127.0.0.1 only):
#   17070  NATS_MONITOR  the HTTP monitoring endpoints (-m): /varz, /connz, ... which have no
#                        authentication of their own (information exposure)
#   17071                the client port (not exported)

# start_nats: installs nats-server and starts it with monitoring on.
start_nats() {
    if ! need_pkgs nats-server; then
        server_failed nats "apt-get install failed"
        return 0
    fi
    # -a sets the host of both listeners (the monitor's http_host defaults to it).
    start_bg nats nats-server -a 127.0.0.1 -p 17071 -m 17070
    srv_expect NATS_MONITOR http://127.0.0.1:17070/varz 200
    return 0
}
