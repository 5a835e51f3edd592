# shellcheck shell=bash
# RabbitMQ 3.10.8 (Debian rabbitmq-server) as two nodes, for tests/real/servers.rs (the
# management API) and tests/real/amqp.rs (AMQP 0-9-1). Sourced by scripts/servers/start.sh,
# which calls start_rabbitmq. Both nodes boot at once (each takes about 20-30 s).
#
# Ports (127.0.0.1 only):
#   17060  RABBITMQ_MGMT          node ajar_probe: management HTTP API and UI; the default
#                                 user guest/guest, which the broker accepts from loopback
#                                 only (loopback_users, the default); one queue
#                                 ajar_probe_queue in vhost /
#   17061  RABBITMQ_AMQP_GUEST    node ajar_probe: AMQP listener, guest/guest works
#   17062                         node ajar_probe: Erlang distribution (not exported)
#   17063                         epmd shared by both nodes, so neither meets another
#                                 broker's epmd on 4369
#   17190  RABBITMQ_AMQP_NOGUEST  node ajar_noguest: AMQP listener; no management plugin;
#                                 default_user/default_pass are a random user and password,
#                                 so no guest user exists
#   17191                         node ajar_noguest: Erlang distribution (not exported)
# The brokers run as root from /usr/lib/rabbitmq/bin (the /usr/sbin wrapper would su to the
# rabbitmq user and write to /var/log), each with its own HOME (its Erlang cookie), mnesia
# and logs under $AJAR_SERVERS_DIR.

# _rabbitmq_node NAME NODE DIST_PORT DIR: starts one node with DIR/rabbitmq.conf and
# DIR/enabled_plugins, registered in the epmd on 17063.
_rabbitmq_node() {
    local name=$1 node=$2 dist=$3 d=$4
    start_bg "$name" env HOME="$d/home" ERL_EPMD_PORT=17063 RABBITMQ_CONF_ENV_FILE=/dev/null \
        RABBITMQ_NODENAME="$node@localhost" RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" RABBITMQ_MNESIA_BASE="$d/mnesia" \
        RABBITMQ_LOG_BASE="$d/log" RABBITMQ_PID_FILE="$d/rabbitmq.pid" RABBITMQ_DIST_PORT="$dist" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}' \
        /usr/lib/rabbitmq/bin/rabbitmq-server
}

# _rabbitmqctl DIR NODE ARGS...: rabbitmqctl against one node (its cookie is in DIR/home).
_rabbitmqctl() {
    local d=$1 node=$2
    shift 2
    env HOME="$d/home" ERL_EPMD_PORT=17063 RABBITMQ_CONF_ENV_FILE=/dev/null \
        /usr/lib/rabbitmq/bin/rabbitmqctl -n "$node@localhost" "$@"
}

# start_rabbitmq: installs the broker, starts epmd and both nodes, creates the queue, and
# publishes each node once it is in the configuration its tests expect.
start_rabbitmq() {
    local d=$AJAR_SERVERS_DIR/rabbitmq n=$AJAR_SERVERS_DIR/rabbitmq-noguest user secret
    if ! need_pkgs rabbitmq-server; then
        server_failed rabbitmq "apt-get install failed"
        return 0
    fi
    mkdir -p "$d/home" "$d/mnesia" "$d/log" "$n/home" "$n/mnesia" "$n/log"
    cat >"$d/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:17061
management.tcp.ip = 127.0.0.1
management.tcp.port = 17060
CONF
    echo '[rabbitmq_management].' >"$d/enabled_plugins"
    user="ajar_$(srv_secret | cut -c1-8)"
    secret=$(srv_secret)
    cat >"$n/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:17190
default_user = $user
default_pass = $secret
CONF
    echo '[].' >"$n/enabled_plugins"
    # Our own epmd first: otherwise erl would start one with -daemon, outside our PIDs.
    start_bg rabbitmq-epmd epmd -port 17063 -address 127.0.0.1
    if ! wait_port 17063 20; then
        srv_fail rabbitmq-epmd "epmd not listening"
        return 0
    fi
    _rabbitmq_node rabbitmq ajar_probe 17062 "$d"
    _rabbitmq_node rabbitmq-noguest ajar_noguest 17191 "$n"
    if wait_http http://127.0.0.1:17060/api/overview 120; then
        # Set-up only (the probe never writes): one queue, so the overview counts something.
        if [ "$(srv_status http://127.0.0.1:17060/api/queues/%2F/ajar_probe_queue -u guest:guest \
            -X PUT -H 'Content-Type: application/json' -d '{"durable":false,"auto_delete":false}')" \
            != 201 ]; then
            srv_fail rabbitmq "ajar_probe_queue not created"
        elif srv_expect RABBITMQ_MGMT http://127.0.0.1:17060/api/overview 401; then
            # The AMQP listener opens with the management one; guest must log in.
            if wait_port 17061 30 &&
                [ "$(srv_status http://127.0.0.1:17060/api/whoami -u guest:guest)" = 200 ]; then
                export_server RABBITMQ_AMQP_GUEST 17061
            else
                srv_fail rabbitmq "AMQP on 17061 not up, or guest refused"
            fi
        fi
    else
        srv_fail rabbitmq "management API not answering"
    fi
    # The listener opens last in the boot, after the default user was made.
    if ! wait_port 17190 120; then
        srv_fail rabbitmq-noguest "AMQP on 17190 not listening"
        return 0
    fi
    if _rabbitmqctl "$n" ajar_noguest authenticate_user guest guest >/dev/null 2>&1; then
        srv_fail rabbitmq-noguest "guest/guest is accepted"
    elif ! _rabbitmqctl "$n" ajar_noguest authenticate_user "$user" "$secret" >/dev/null 2>&1; then
        srv_fail rabbitmq-noguest "the random default user is refused"
    else
        export_server RABBITMQ_AMQP_NOGUEST 17190
    fi
    return 0
}
