# shellcheck shell=bash
# Mosquitto 2.0.11 (Debian mosquitto) for tests/real/mqtt.rs. Sourced by
# scripts/servers/start.sh, which calls start_mqtt.
#
# Ports (127.0.0.1 only):
#   17180  MQTT_OPEN  allow_anonymous true; one retained message on ajar/probe/retained
#                     (published at set-up with mosquitto_pub; its payload is a random
#                     marker the tests look for in ajar's output, and must never find)
#   17181  MQTT_AUTH  allow_anonymous false, a password_file (mosquitto_passwd -b, random
#                     password) with one user
#   17182  MQTT_TLS   a TLS-only listener (the throw-away certificate of tests/fixtures/tls/),
#                     allow_anonymous true, no retained message of its own
#   17183  MQTT_ACL   allow_anonymous true with an empty acl_file: anonymous clients connect
#                     and are granted `#`, but may read (and write) nothing
# No persistence: data lives in memory, configs and logs under $AJAR_SERVERS_DIR.
# The retained payload is written to $AJAR_SERVERS_DIR/mqtt-open/payload for the tests
# (MQTT_OPEN_PAYLOAD in the env file names it).

# The repository, for the test certificate (this file is sourced, not run).
_mqtt_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# _mqtt_secret: 16 random bytes as hex (start.sh's srv_secret, which a bare lib.sh lacks).
_mqtt_secret() {
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

# _mqtt_start NAME PORT [PASSWORD_FILE] [tls|acl]: one mosquitto with its config in
# $AJAR_SERVERS_DIR/mqtt-NAME; anonymous unless a password file is given; `tls` makes the
# listener TLS-only, `acl` adds an empty acl_file (no access for anyone).
_mqtt_start() {
    local name=$1 port=$2 passwd=${3:-} mode=${4:-} d=$AJAR_SERVERS_DIR/mqtt-$1
    mkdir -p "$d"
    {
        # Started as root, mosquitto drops to the `mosquitto` user, which cannot read the
        # scratch directory: stay the user that started it (a no-op when not root).
        echo "user $(id -un)"
        echo "per_listener_settings false"
        echo "persistence false"
        echo "listener $port 127.0.0.1"
        if [ "$mode" = tls ]; then
            echo "certfile $_mqtt_repo/tests/fixtures/tls/cert.pem"
            echo "keyfile $_mqtt_repo/tests/fixtures/tls/key.pem"
        fi
        if [ "$mode" = acl ]; then
            : >"$d/acl"
            echo "acl_file $d/acl"
        fi
        if [ -n "$passwd" ]; then
            echo "allow_anonymous false"
            echo "password_file $passwd"
        else
            echo "allow_anonymous true"
        fi
        echo "log_dest stderr"
    } >"$d/mosquitto.conf"
    start_bg "mqtt-$name" mosquitto -c "$d/mosquitto.conf"
    wait_port "$port" 30
}

# start_mqtt: installs Mosquitto, starts the anonymous and the password-protected broker,
# publishes the retained message, and exports each only once it behaves as the tests expect.
start_mqtt() {
    local pass payload d=$AJAR_SERVERS_DIR/mqtt-auth
    if ! need_pkgs mosquitto mosquitto-clients; then
        server_failed mqtt "apt-get install failed"
        return 0
    fi
    payload="ajar-retained-payload-$(_mqtt_secret)"
    if _mqtt_start open 17180 &&
        mosquitto_pub -h 127.0.0.1 -p 17180 -V mqttv311 -q 1 -r \
            -t ajar/probe/retained -m "$payload" &&
        [ "$(mosquitto_sub -h 127.0.0.1 -p 17180 -t ajar/probe/retained -C 1 -W 5)" = "$payload" ]; then
        printf '%s' "$payload" >"$AJAR_SERVERS_DIR/mqtt-open/payload"
        export_server MQTT_OPEN 17180
        echo "MQTT_OPEN_PAYLOAD=$AJAR_SERVERS_DIR/mqtt-open/payload" >>"$AJAR_SERVERS_ENV"
    else
        server_failed mqtt-open "not up or the retained message not published"
    fi
    pass=$(_mqtt_secret)
    mkdir -p "$d"
    : >"$d/passwd"
    chmod 600 "$d/passwd"
    if mosquitto_passwd -b "$d/passwd" ajar_probe "$pass" &&
        _mqtt_start auth 17181 "$d/passwd" &&
        ! mosquitto_sub -h 127.0.0.1 -p 17181 -t '#' -C 1 -W 3 >/dev/null 2>&1; then
        export_server MQTT_AUTH 17181
    else
        server_failed mqtt-auth "not up, or an anonymous client was not refused"
    fi
    # shellcheck disable=SC2016 # the topic is literally $SYS/broker/version
    if _mqtt_start tls 17182 "" tls &&
        mosquitto_sub -h 127.0.0.1 -p 17182 --insecure --cafile "$_mqtt_repo/tests/fixtures/tls/cert.pem" \
            -t '$SYS/broker/version' -C 1 -W 5 | grep -q '^mosquitto version'; then
        export_server MQTT_TLS 17182
    else
        server_failed mqtt-tls "not up, or not answering over TLS"
    fi
    # A retained message published there is dropped (no write access; Mosquitto still
    # acknowledges it), and a reader of # gets nothing.
    if _mqtt_start acl 17183 "" acl &&
        mosquitto_pub -h 127.0.0.1 -p 17183 -q 1 -r -t ajar/probe/retained -m x &&
        [ -z "$(mosquitto_sub -h 127.0.0.1 -p 17183 -t '#' -C 1 -W 2 2>/dev/null)" ]; then
        export_server MQTT_ACL 17183
    else
        server_failed mqtt-acl "not up, or the empty ACL let a client publish or read"
    fi
    return 0
}
