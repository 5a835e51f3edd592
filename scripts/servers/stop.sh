#!/usr/bin/env bash
# Stops every server scripts/servers/start.sh started, by the PIDs it recorded in
# $AJAR_SERVERS_DIR/pids (or the directory given as $1), then removes that directory.
#
# start_bg runs each daemon under setsid, so its PID is also its process group: SIGTERM goes
# to the group (RabbitMQ's wrapper script and its Erlang VM, a JVM and its threads), and after
# 20 s whatever still runs gets SIGKILL. Nothing is matched by name, so servers of other
# runs (and of other people) are left alone.
set -uo pipefail
dir=${1:-${AJAR_SERVERS_DIR:-}}
[ -n "$dir" ] && [ -d "$dir" ] || exit 0
# alive PID: the process, or another of its group, still runs.
alive() {
    kill -0 "$1" 2>/dev/null || pgrep -g "$1" >/dev/null 2>&1
}
pids=()
if [ -f "$dir/pids" ]; then
    while read -r pid _; do
        case $pid in '' | *[!0-9]*) continue ;; esac
        alive "$pid" || continue
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
        pids+=("$pid")
    done < "$dir/pids"
fi
for _ in $(seq 200); do
    left=()
    for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
    [ ${#left[@]} -eq 0 ] && break
    sleep 0.1
done
for pid in "${pids[@]}"; do
    if alive "$pid"; then
        echo "servers: $pid did not stop on SIGTERM, killing it" >&2
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    fi
done
[ ${#pids[@]} -gt 0 ] && echo "servers: stopped ${#pids[@]} processes" >&2
case $dir in /tmp/ajar-servers.*) rm -rf "$dir" ;; esac
exit 0
