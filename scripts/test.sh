#!/usr/bin/env bash
# Runs every test: unit tests, CLI tests, the integration tests against protocol-faithful
# fake servers on loopback, and the tests against real servers. This is README's test command.
#
# Real servers: scripts/servers/start.sh installs the Debian packages they need (apt, as
# root), starts each on 127.0.0.1 in its open and protected configurations, and writes their
# NAME=127.0.0.1:PORT table to $AJAR_SERVERS_ENV, which tests/real reads. They are stopped by
# PID (scripts/servers/stop.sh) when this script exits, whether the tests passed or not.
# AJAR_NO_SERVERS=1 skips them (their tests then say they skipped, or fail under CI=true).
#
# Products with no Debian package (Elasticsearch, OpenSearch, Kibana, MongoDB) are tested
# against documented responses replayed by fakes (tests/fixtures/*/SOURCES.md).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
AJAR_SERVERS_DIR=$(mktemp -d /tmp/ajar-servers.XXXXXX)
export AJAR_SERVERS_DIR
export AJAR_SERVERS_ENV=$AJAR_SERVERS_DIR/servers.env
build_pid=""
start_pid=""
# Runs on every exit (tests passed or failed, set-up error, SIGINT, SIGTERM). Under set -e,
# so each step is an `if` or `|| true`: a failing step must not skip stopping the servers.
cleanup() {
    if [ -n "$start_pid" ]; then
        kill "$start_pid" 2>/dev/null || true
        wait "$start_pid" 2>/dev/null || true
    fi
    if [ -n "$build_pid" ]; then
        kill "$build_pid" 2>/dev/null || true
    fi
    bash scripts/servers/stop.sh "$AJAR_SERVERS_DIR" || true
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ "${AJAR_NO_SERVERS:-}" != 1 ]; then
    # Compile the tests while the packages install and the servers boot.
    cargo test --locked --lib --bins --tests --no-run >"$AJAR_SERVERS_DIR/build.log" 2>&1 &
    build_pid=$!
    # In the background and waited for, so that a signal runs the traps at once.
    bash scripts/servers/start.sh &
    start_pid=$!
    wait "$start_pid" || true
    start_pid=
    wait "$build_pid" || true
    build_pid=
fi
# The pinned virtualenv scripts/servers/mongoemu.server.sh made also has jsonschema, for
# tests/sarif.rs's schema validation.
venv=${AJAR_CACHE_DIR:-$HOME/.cache/ajar}/venv-mongoemu
if [ -z "${AJAR_PYTHON:-}" ] && [ -x "$venv/bin/python" ]; then
    export AJAR_PYTHON=$venv/bin/python
fi
status=0
cargo test --locked --lib --bins --tests 2>&1 | tee "$log" || status=$?
# One closing line over every test binary, for CI logs.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
