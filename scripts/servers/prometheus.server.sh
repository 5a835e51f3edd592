# shellcheck shell=bash
# Prometheus 2.42.0 (Debian prometheus) for tests/real/servers.rs. Sourced by
# scripts/servers/start.sh, which calls start_prometheus.
#
# Ports (127.0.0.1 only):
#   17030  PROMETHEUS_OPEN  no web config: the API answers anyone; one scrape job
#                           `ajar_probe_job` (Prometheus scraping itself)
#   17031  PROMETHEUS_AUTH  --web.config.file with basic_auth_users (user ajar_admin, a random
#                           password, bcrypt from htpasswd -B); the same job

# _prometheus_start NAME PORT [ARGS...]: one Prometheus with its config and TSDB in
# $AJAR_SERVERS_DIR/prometheus-NAME, scraping itself every 15 s.
_prometheus_start() {
    local name=$1 port=$2 d=$AJAR_SERVERS_DIR/prometheus-$1
    shift 2
    mkdir -p "$d"
    cat >"$d/prometheus.yml" <<EOF
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: ajar_probe_job
    static_configs:
      - targets: ["127.0.0.1:$port"]
EOF
    start_bg "prometheus-$name" prometheus --config.file="$d/prometheus.yml" \
        --storage.tsdb.path="$d/data" --web.listen-address="127.0.0.1:$port" "$@"
}

# start_prometheus: installs Prometheus (and htpasswd for the bcrypt hash), starts both.
start_prometheus() {
    local d=$AJAR_SERVERS_DIR/prometheus-auth hash i
    if ! need_pkgs prometheus apache2-utils; then
        server_failed prometheus "apt-get install failed"
        return 0
    fi
    mkdir -p "$d"
    hash=$(htpasswd -nbB ajar_admin "$(srv_secret)" | cut -d: -f2-)
    printf 'basic_auth_users:\n  ajar_admin: %s\n' "$hash" >"$d/web.yml"
    _prometheus_start open 17030
    _prometheus_start auth 17031 --web.config.file="$d/web.yml"
    if wait_http http://127.0.0.1:17030/-/ready 60; then
        # The target list fills once service discovery has run (a second or two).
        for i in $(seq 50); do
            curl -s --max-time 5 http://127.0.0.1:17030/api/v1/targets |
                grep -q '"job":"ajar_probe_job"' && break
            [ "$i" -eq 50 ] && srv_fail prometheus-open "no active target after 10 s"
            sleep 0.2
        done
    fi
    srv_expect PROMETHEUS_OPEN http://127.0.0.1:17030/api/v1/status/buildinfo 200
    srv_expect PROMETHEUS_AUTH http://127.0.0.1:17031/api/v1/status/buildinfo 401
    return 0
}
