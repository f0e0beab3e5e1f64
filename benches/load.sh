#!/usr/bin/env bash
# Load benchmark (not a test): one local server (benches/load_server.py) serves FEEDS feeds
# (default 2,000), each bringing one new item per poll. Measures, on a release build:
#   1. a full poll cycle's wall time with `parley run --once` (fresh store, then a second
#      cycle on the warm store), with the same-session baseline of fetching every feed once
#      with curl (no parley work at all), and their ratio;
#   2. the daemon (`parley run`) over CYCLES poll cycles (default 20): RSS and open file
#      descriptors at the end of every cycle, peak RSS (VmHWM) and the store's size on disk,
#      then a one-line verdict on whether RSS stays flat (see `verdict` below). Exits 3 when
#      the verdict is GROWING, so the claim is checked by the script rather than by eye.
#
#   benches/load.sh [FEEDS] [CYCLES] [INTERVAL]
#
# Environment: PARLEY_BIN (a built binary instead of `cargo build --release`), LOAD_ONCE=0
# (skip the two `run --once` cycles and the curl baseline; the daemon then starts on an
# empty store), LOAD_FLAT_PCT (the verdict's threshold, default 5), LOAD_NEW (new items per
# feed per poll, default 1; 0 serves the same items every poll, so the log stops growing
# after the first cycle and RSS shows only what parley itself holds from cycle to cycle).
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

python3 benches/load_server.py --feeds "$feeds" --new-per-poll "${LOAD_NEW:-1}" --port-file "$work/port" &
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
if [ "${LOAD_ONCE:-1}" != 0 ]; then
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
fi

echo "== daemon over $cycles cycles (poll_interval $interval, ${LOAD_NEW:-1} new item(s) per feed per poll)"
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
    store=$(du -sk "$work/state" | cut -f1)
    printf 'cycle %3d: RSS %6.1f MiB  peak %6.1f MiB  fds %4d  store %7.1f MiB\n' "$c" \
        "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" "$fds" \
        "$(echo "$store / 1024" | bc -l)"
    echo "$c $rss" >> "$work/rss"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# The verdict: a least-squares line through RSS over the second half of the cycles (the
# first half lets caches fill). Flat means the line's rise over those cycles is under
# LOAD_FLAT_PCT percent of their mean RSS; otherwise memory is still growing. The mean of
# the last quarter against the second quarter is printed as a second, slope-free view.
awk -v pct="${LOAD_FLAT_PCT:-5}" '
    { c[NR] = $1; r[NR] = $2 / 1024 }
    END {
        n = NR; from = int(n / 2) + 1; m = n - from + 1
        if (m < 2) { print "verdict: UNKNOWN: too few cycles for a slope"; exit 0 }
        for (i = from; i <= n; i++) { sx += c[i]; sy += r[i] }
        mx = sx / m; my = sy / m
        for (i = from; i <= n; i++) { sxy += (c[i] - mx) * (r[i] - my); sxx += (c[i] - mx) ^ 2 }
        slope = sxy / sxx; rise = slope * (c[n] - c[from])
        q = int(n / 4); if (q < 1) q = 1
        for (i = q + 1; i <= 2 * q; i++) early += r[i]
        for (i = n - q + 1; i <= n; i++) late += r[i]
        verdict = (rise < my * pct / 100) ? "FLAT" : "GROWING"
        printf "verdict: %s: RSS slope over cycles %d-%d is %+.3f MiB/cycle (%+.1f MiB over them, %.1f%% of their mean %.1f MiB; threshold %s%%); mean of the last %d cycles %.1f MiB vs cycles %d-%d %.1f MiB\n", \
            verdict, c[from], c[n], slope, rise, 100 * rise / my, my, pct, q, late / q, q + 1, 2 * q, early / q
        exit verdict == "FLAT" ? 0 : 3
    }' "$work/rss"
