# shellcheck shell=bash
# beanstalkd 1.12 (Debian beanstalkd) for tests/real/beanstalkd.rs. Sourced by
# scripts/servers/start.sh, which calls start_beanstalkd.
#
# Ports (127.0.0.1 only):
#   17170  BEANSTALKD_OPEN  in memory (no -b binlog), no authentication (beanstalkd has
#                           none); one job put into tube ajar_probe_tube at setup

# _beanstalk PORT N TEXT: sends TEXT (N commands) to the beanstalkd on PORT and prints the
# answer line of the last one.
_beanstalk() {
    local port=$1 n=$2 text=$3 reply
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf '%b' "$text" >&3
    while [ "$n" -gt 0 ]; do
        IFS= read -r -t 5 reply <&3 || break
        n=$((n - 1))
    done
    exec 3<&- 3>&-
    printf '%s\n' "$reply"
}

# start_beanstalkd: installs beanstalkd, starts it and puts the job (set-up only: the probe
# never puts, peeks or reserves).
start_beanstalkd() {
    if ! need_pkgs beanstalkd; then
        server_failed beanstalkd "apt-get install failed"
        return 0
    fi
    start_bg beanstalkd beanstalkd -l 127.0.0.1 -p 17170
    if wait_port 17170 30 &&
        [[ $(_beanstalk 17170 2 'use ajar_probe_tube\r\nput 0 0 600 5\r\najar!\r\n') == 'INSERTED '* ]]; then
        export_server BEANSTALKD_OPEN 17170
    else
        server_failed beanstalkd "not up or job not put"
    fi
    return 0
}
