#!/usr/bin/env bash
# ajar vs nmap on a fleet of fake servers on loopback (examples/fleet.rs). See bench/README.md.
#
#   bash bench/run.sh                      # scale 1: 134 hosts x 3 ports = 402 endpoints
#   SCALE=3 CONCURRENCY=64 bash bench/run.sh
#   SCALE=10 NMAP=0 bash bench/run.sh      # ajar only
#
# Environment: SCALE (1), TIMEOUT seconds (2), CONCURRENCY for ajar -c (512), NMAP=0 to skip
# nmap, FLEET_SECONDS the fleet's own lifetime (1800), AJAR_MAX and NMAP_MAX the seconds ajar
# (120) and nmap (1500) may run before they are stopped.
# All traffic stays on 127.77.0.0/16. Results go to bench/out/ (gitignored); summary.txt
# holds the table. Exit status: 0 when the sanity checks pass, 1 when one fails.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/bench/out"
SCALE=${SCALE:-1}
TIMEOUT=${TIMEOUT:-2}
CONCURRENCY=${CONCURRENCY:-512}
NMAP=${NMAP:-1}
FLEET_SECONDS=${FLEET_SECONDS:-1800}
NMAP_MAX=${NMAP_MAX:-1500}
AJAR_MAX=${AJAR_MAX:-120}
# Binaries land where cargo puts them: CARGO_TARGET_DIR when set, ./target otherwise.
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
FLEET_BIN="$TARGET_DIR/release/examples/fleet"
AJAR_BIN="$TARGET_DIR/release/ajar"

mkdir -p "$OUT"

# ---- cleanup: stop the fleet this script started, whatever happens ----
FLEET_PID=""
cleanup() {
    if [ -n "$FLEET_PID" ] && kill -0 "$FLEET_PID" 2>/dev/null; then
        kill "$FLEET_PID" 2>/dev/null || true
        wait "$FLEET_PID" 2>/dev/null || true
    fi
    rm -f "$OUT/fleet.pid"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fleet left behind by an earlier run that was killed hard still holds its addresses.
if [ -f "$OUT/fleet.pid" ]; then
    old=$(cat "$OUT/fleet.pid" 2>/dev/null || true)
    if [ -n "$old" ] && grep -q "examples/fleet" "/proc/$old/cmdline" 2>/dev/null; then
        echo "stopping the fleet of an earlier run (pid $old)"
        kill "$old" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$OUT/fleet.pid"
fi
rm -f "$OUT"/{targets.txt,hosts.txt,expect.json,fleet.stdout,fleet.stderr,ajar.json,ajar.time,ajar.stderr,nmap.xml,nmap.txt,nmap.time,nmap.stdout,summary.txt}

# ---- (a) build ----
echo "== building (release)"
cargo build --release --example fleet
cargo build --release

# ---- (b) tools: nmap and GNU time from Debian ----
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "need root to apt-get install $*" >&2
        return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null 2>&1 || {
        apt-get update >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null
    }
}
if [ ! -x /usr/bin/time ]; then
    echo "== installing time (Debian)"
    apt_install time
fi
if [ "$NMAP" = 1 ] && ! command -v nmap >/dev/null 2>&1; then
    echo "== installing nmap (Debian)"
    apt_install nmap || { echo "nmap unavailable: running ajar only" >&2; NMAP=0; }
fi

# ---- (c) the fleet ----
echo "== starting the fleet (scale $SCALE)"
"$FLEET_BIN" --scale "$SCALE" --targets "$OUT/targets.txt" --expect "$OUT/expect.json" \
    --seconds "$FLEET_SECONDS" >"$OUT/fleet.stdout" 2>"$OUT/fleet.stderr" &
FLEET_PID=$!
echo "$FLEET_PID" >"$OUT/fleet.pid"
for _ in $(seq 1 600); do
    grep -q '^ready$' "$OUT/fleet.stdout" 2>/dev/null && break
    if ! kill -0 "$FLEET_PID" 2>/dev/null; then
        echo "the fleet exited before it was ready:" >&2
        cat "$OUT/fleet.stderr" >&2
        exit 1
    fi
    sleep 0.1
done
grep -q '^ready$' "$OUT/fleet.stdout" || { echo "the fleet was not ready after 60 s" >&2; exit 1; }
cat "$OUT/fleet.stderr"

# The same endpoints for both tools: every host on every port.
cut -d: -f1 "$OUT/targets.txt" | sort -u >"$OUT/hosts.txt"
PORTS=$(cut -d: -f2 "$OUT/targets.txt" | sort -un | paste -sd, -)
hosts=$(wc -l <"$OUT/hosts.txt")
lines=$(wc -l <"$OUT/targets.txt")
nports=$(echo "$PORTS" | tr ',' '\n' | wc -l)
if [ "$((hosts * nports))" != "$lines" ]; then
    echo "targets.txt is not hosts x ports ($hosts x $nports != $lines)" >&2
    exit 1
fi

# ---- (d) ajar ----
echo "== ajar: $lines endpoints, -c $CONCURRENCY, --timeout ${TIMEOUT}s"
AJAR_CMD=("$AJAR_BIN" scan -i "$OUT/targets.txt" --format json -o "$OUT/ajar.json" -q
    --timeout "${TIMEOUT}s" -c "$CONCURRENCY")
echo "   ${AJAR_CMD[*]}"
# Bounded: after AJAR_MAX seconds ajar gets SIGINT (it then writes what it found, marked
# "interrupted", and exits 130), and SIGKILL 10 s later.
ajar_status=0
/usr/bin/time -v -o "$OUT/ajar.time" timeout -s INT -k 10 "$AJAR_MAX" "${AJAR_CMD[@]}" \
    2>"$OUT/ajar.stderr" || ajar_status=$?
if [ "$ajar_status" != 0 ]; then
    echo "ajar exited with status $ajar_status (130 or 124: still running after ${AJAR_MAX}s, stopped):" >&2
    cat "$OUT/ajar.stderr" >&2
    [ -s "$OUT/ajar.json" ] || exit 1
fi

# ---- (e) nmap ----
if [ "$NMAP" = 1 ]; then
    NMAP_CMD=(nmap -Pn -n -sT -sV --version-light -p "$PORTS" -iL "$OUT/hosts.txt"
        --script mongodb-databases,mongodb-info,http-title --script-timeout "${TIMEOUT}s"
        --max-rtt-timeout "${TIMEOUT}s" -T4 -oX "$OUT/nmap.xml" -oN "$OUT/nmap.txt")
    echo "== nmap: $hosts hosts x ports $PORTS"
    echo "   ${NMAP_CMD[*]}"
    /usr/bin/time -v -o "$OUT/nmap.time" timeout "$NMAP_MAX" "${NMAP_CMD[@]}" >"$OUT/nmap.stdout" 2>&1 || {
        echo "nmap failed or ran past ${NMAP_MAX}s (see $OUT/nmap.stdout)" >&2
    }
fi

# ---- (f, g) the table and the sanity checks ----
set +e
python3 - "$OUT" "$TIMEOUT" "$CONCURRENCY" "$NMAP" <<'EOF' | tee "$OUT/summary.txt"
import json, math, os, re, sys
import xml.etree.ElementTree as ET

out, timeout, concurrency, with_nmap = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"

def gnu_time(path):
    """Wall seconds and max RSS in MB from `/usr/bin/time -v`."""
    text = open(path).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1)
    seconds = 0.0
    for part in wall.split(":"):
        seconds = seconds * 60 + float(part)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    cpu = float(re.search(r"User time \(seconds\): (\S+)", text).group(1)) + float(
        re.search(r"System time \(seconds\): (\S+)", text).group(1))
    return seconds, rss_kb / 1024, cpu

expect = json.load(open(os.path.join(out, "expect.json")))
report = json.load(open(os.path.join(out, "ajar.json")))
counts = report["endpoints"]
a_wall, a_rss, a_cpu = gnu_time(os.path.join(out, "ajar.time"))
a_found = counts["open"] + counts["auth_required"]
rows = [("ajar", a_wall, a_rss, a_cpu, counts["total"], a_found, counts["open"])]

if with_nmap and os.path.exists(os.path.join(out, "nmap.xml")):
    n_wall, n_rss, n_cpu = gnu_time(os.path.join(out, "nmap.time"))
    root = ET.parse(os.path.join(out, "nmap.xml")).getroot()
    ports = root.findall("./host/ports/port")
    open_ports = [p for p in ports if p.find("state").get("state") == "open"]
    named = [p for p in open_ports
             if p.find("service") is not None and p.find("service").get("product")]
    listed = [p for p in open_ports for s in p.findall("script")
              if s.get("id") == "mongodb-databases" and "errmsg" not in s.get("output", "")
              and "databases" in s.get("output", "")]
    rows.append(("nmap", n_wall, n_rss, n_cpu, len(ports), len(named), len(listed)))
    nmap_open = len(open_ports)

print()
print(f"fleet: {expect['hosts']} hosts x ports {expect['ports']} = {expect['endpoints']} endpoints "
      f"(open {expect['open']}, auth-required {expect['auth_required']}, silent {expect['silent']}, "
      f"closed {expect['closed']}); timeout {timeout:g} s; ajar -c {concurrency}")
print()
print(f"{'tool':<6} {'wall s':>8} {'CPU s':>7} {'max RSS MB':>11} {'endpoints':>10} {'findings':>9} {'open verdicts':>14}")
for tool, wall, rss, cpu, endpoints, found, verdicts in rows:
    print(f"{tool:<6} {wall:>8.2f} {cpu:>7.2f} {rss:>11.1f} {endpoints:>10} {found:>9} {verdicts:>14}")
print()
print("findings: ajar = endpoints with a verdict (open + auth-required); nmap = open ports whose product it named.")
print("open verdicts: ajar = data listed without credentials; nmap = mongodb-databases listings (it has no such check for Elasticsearch/Kibana).")
if len(rows) > 1:
    print(f"nmap also reports {nmap_open} ports open (silent listeners included), with no verdict on access.")
    print(f"ratio nmap_wall / ajar_wall = {rows[1][1] / rows[0][1]:.1f}x")
print()

ok = True
checks = [
    ("open", counts["open"], expect["open"]),
    ("auth_required", counts["auth_required"], expect["auth_required"]),
    ("silent", counts["silent"], expect["silent"]),
    ("closed", counts["closed"], expect["closed"]),
    ("unidentified", counts["unidentified"], 0),
    ("failed", counts["failed"], 0),
    ("scanned", counts["scanned"], expect["endpoints"]),
]
bad = [f"{name} {got} != {want}" for name, got, want in checks if got != want]
if report.get("interrupted"):
    bad.insert(0, "ajar did not finish by itself and was stopped (report marked interrupted)")
if bad:
    ok = False
    print("sanity: FAIL: " + "; ".join(bad))
else:
    print(f"sanity: PASS: ajar found {counts['open']} open, {counts['auth_required']} auth-required, "
          f"{counts['silent']} silent, {counts['closed']} closed, as the fleet was built")

# Silent endpoints cost one timeout each, in waves of `concurrency`; everything else is fast.
waves = max(1, math.ceil(expect["silent"] / concurrency))
bound = waves * timeout + 1.5
verdict = "PASS" if a_wall <= bound else "FAIL"
ok = ok and verdict == "PASS"
print(f"bounded: {verdict}: ajar wall {a_wall:.2f} s = {a_wall / timeout:.2f} x the {timeout:g} s timeout "
      f"({expect['silent']} silent endpoints, {waves} wave(s) at -c {concurrency}; bound {bound:.1f} s)")
sys.exit(0 if ok else 1)
EOF
status=${PIPESTATUS[0]}
exit "$status"
