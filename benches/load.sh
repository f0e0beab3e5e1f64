#!/usr/bin/env bash
# Load benchmark (not a test): one local server (benches/load_server.py) serves FEEDS feeds
# (default 2,000), each bringing one new item per poll. Measures, on a release build:
#   1. a full poll cycle's wall time with `parley run --once` (fresh store, then a second
#      cycle on the warm store), with the same-session baseline of fetching every feed once
#      with curl (no parley work at all), and their ratio;
#   2. the daemon (`parley run`) over CYCLES poll cycles (default 20): RSS and open file
#      descriptors at the end of every cycle, peak RSS (VmHWM), to show memory staying flat.
#
#   benches/load.sh [FEEDS] [CYCLES] [INTERVAL]
set -euo pipefail
cd "$(dirname "$0")/.."
feeds=${1:-2000}
cycles=${2:-20}
interval=${3:-10s}
# PARLEY_BIN runs an already built binary instead (e.g. to try the script on a debug build;
# the figures are only meaningful for release).
if [ -z "${PARLEY_BIN:-}" ]; then
    cargo build --release --locked --quiet
fi
bin=${PARLEY_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/parley}
work=$(mktemp -d)
server_pid=
daemon_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

python3 benches/load_server.py --feeds "$feeds" --port-file "$work/port" &
server_pid=$!
while [ ! -s "$work/port" ]; do sleep 0.1; done
port=$(cat "$work/port")
served() { curl -s "http://127.0.0.1:$port/stats"; }

{
    printf 'include = ["%s/config/watchlists/*.toml"]\n' "$PWD"
    printf '[daemon]\nstate_dir = "state"\npoll_interval = "%s"\nconcurrency = 64\nper_host_concurrency = 64\n' "$interval"
    printf '[api]\nenabled = false\n'
    printf '[[notifier]]\nid = "console"\ntype = "log"\n'
    for i in $(seq 0 $((feeds - 1))); do
        printf '[[feed]]\nurl = "http://127.0.0.1:%s/f/%s.xml"\n' "$port" "$i"
    done
} > "$work/parley.toml"

now() { date +%s.%N; }
# Baseline: fetch every feed once, 64 at a time, doing nothing with the bytes.
t0=$(now)
seq 0 $((feeds - 1)) | xargs -P 64 -I{} curl -s -o /dev/null "http://127.0.0.1:$port/f/{}.xml"
t1=$(now)
baseline=$(echo "$t1 - $t0" | bc -l)

once() {
    /usr/bin/time -f '%e %M' -o "$work/time" "$bin" --config "$work/parley.toml" run --once \
        > "$work/once.out" 2> "$work/once.err"
    read -r wall rss_kb < "$work/time"
    printf '%-34s %7.2f s  peak RSS %6.1f MiB   %s\n' "$1" "$wall" "$(echo "$rss_kb / 1024" | bc -l)" \
        "$(tail -n 1 "$work/once.out" | cut -c1-80)"
    echo "$wall"  > "$work/last_wall"
}
echo "== one full poll cycle of $feeds feeds (run --once)"
once "cycle 1 (fresh store)"
cold=$(cat "$work/last_wall")
once "cycle 2 (warm store, 1 new item/feed)"
warm=$(cat "$work/last_wall")
printf 'baseline (curl every feed once, 64 parallel): %.2f s\n' "$baseline"
printf 'ratio: cold %.1fx, warm %.1fx the baseline\n' "$(echo "$cold / $baseline" | bc -l)" "$(echo "$warm / $baseline" | bc -l)"

echo "== daemon over $cycles cycles (poll_interval $interval)"
"$bin" --config "$work/parley.toml" run > /dev/null 2> "$work/daemon.err" &
daemon_pid=$!
start=$(served)
for c in $(seq 1 "$cycles"); do
    target=$((start + c * feeds))
    while [ "$(served)" -lt "$target" ]; do
        kill -0 "$daemon_pid" || { echo "daemon died"; tail "$work/daemon.err"; exit 1; }
        sleep 0.5
    done
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$daemon_pid/status")
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$daemon_pid/status")
    fds=$(ls "/proc/$daemon_pid/fd" | wc -l)
    printf 'cycle %2d: RSS %6.1f MiB  peak %6.1f MiB  fds %4d\n' "$c" \
        "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" "$fds"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
