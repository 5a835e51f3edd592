# shellcheck shell=bash
# RabbitMQ 3.10.8 (Debian rabbitmq-server) with the management plugin, for
# tests/real/servers.rs. Sourced by scripts/servers/start.sh, which calls start_rabbitmq.
#
# Ports (127.0.0.1 only):
#   17060  RABBITMQ_MGMT  management HTTP API and UI; the default user guest/guest, which the
#                         broker accepts from loopback only (loopback_users, the default);
#                         one queue ajar_probe_queue in vhost /
#   17061                 AMQP listener (not exported)
#   17062                 Erlang distribution (not exported)
#   17063                 its own epmd, so the node never meets another broker's epmd on 4369
# The broker runs as root from /usr/lib/rabbitmq/bin (the /usr/sbin wrapper would su to the
# rabbitmq user and write to /var/log), with HOME (its Erlang cookie), mnesia and logs in
# $AJAR_SERVERS_DIR/rabbitmq. It takes about 20-30 s to boot.

# start_rabbitmq: installs the broker, starts epmd and the node, creates the queue.
start_rabbitmq() {
    local d=$AJAR_SERVERS_DIR/rabbitmq
    if ! need_pkgs rabbitmq-server; then
        server_failed rabbitmq "apt-get install failed"
        return 0
    fi
    mkdir -p "$d/home" "$d/mnesia" "$d/log"
    cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:17061
management.tcp.ip = 127.0.0.1
management.tcp.port = 17060
EOF
    echo '[rabbitmq_management].' >"$d/enabled_plugins"
    # Our own epmd first: otherwise erl would start one with -daemon, outside our PIDs.
    start_bg rabbitmq-epmd epmd -port 17063 -address 127.0.0.1
    if ! wait_port 17063 20; then
        srv_fail rabbitmq-epmd "epmd not listening"
        return 0
    fi
    start_bg rabbitmq env HOME="$d/home" ERL_EPMD_PORT=17063 RABBITMQ_CONF_ENV_FILE=/dev/null \
        RABBITMQ_NODENAME=ajar_probe@localhost RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" RABBITMQ_MNESIA_BASE="$d/mnesia" \
        RABBITMQ_LOG_BASE="$d/log" RABBITMQ_PID_FILE="$d/rabbitmq.pid" RABBITMQ_DIST_PORT=17062 \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}' \
        /usr/lib/rabbitmq/bin/rabbitmq-server
    if ! wait_http http://127.0.0.1:17060/api/overview 120; then
        srv_fail rabbitmq "management API not answering"
        return 0
    fi
    # Set-up only (the probe never writes): one queue, so the overview counts something.
    if [ "$(srv_status http://127.0.0.1:17060/api/queues/%2F/ajar_probe_queue -u guest:guest \
        -X PUT -H 'Content-Type: application/json' -d '{"durable":false,"auto_delete":false}')" \
        != 201 ]; then
        srv_fail rabbitmq "ajar_probe_queue not created"
        return 0
    fi
    srv_expect RABBITMQ_MGMT http://127.0.0.1:17060/api/overview 401
    return 0
}
