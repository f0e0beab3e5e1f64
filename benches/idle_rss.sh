#!/usr/bin/env bash
# Idle memory of the release daemon: `parley run` with N feeds (default 200) of M items
# (default 20) served over HTTP from 127.0.0.1, the shipped watchlists, the API on. After
# every feed has been polled once (the first cycle) and IDLE seconds (default 30) more, it
# reads VmRSS (and the peak, VmHWM) from /proc. The baseline, measured the same way in the
# same session, is the same daemon with one feed; the script prints both and their ratio.
#
#   benches/idle_rss.sh [FEEDS] [ITEMS] [IDLE]
set -euo pipefail
cd "$(dirname "$0")/.."
feeds=${1:-200}
items=${2:-20}
idle=${3:-30}
cargo build --release --locked --quiet
bin=${CARGO_TARGET_DIR:-target}/release/parley
work=$(mktemp -d)
server=
daemon=
cleanup() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null || true
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

python3 benches/gen_feeds.py --out "$work" --feeds "$feeds" --items "$items" \
    --watchlists "$PWD/config/watchlists/*.toml" > /dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/feeds" > /dev/null 2>&1 &
server=$!

# config for N of the generated feeds, as HTTP URLs
write_config() { # $1 = number of feeds, $2 = file
    {
        echo "include = [\"$PWD/config/watchlists/*.toml\"]"
        echo '[daemon]'
        echo "state_dir = \"$work/state-$1\""
        echo 'poll_interval = "15m"'
        echo '[api]'
        echo 'listen = "127.0.0.1:0"'
        for f in $(seq 0 $(($1 - 1))); do
            printf '[[feed]]\nurl = "http://127.0.0.1:%s/feed%s.xml"\nname = "Synthetic %s"\n' "$port" "$f" "$f"
        done
        printf '[[notifier]]\nid = "console"\ntype = "log"\n'
    } > "$2"
}

# Runs the daemon with $1 feeds; prints "rss_kib hwm_kib".
measure() {
    local n=$1 cfg="$work/parley-$1.toml" log="$work/log-$1.txt"
    write_config "$n" "$cfg"
    RUST_LOG=info "$bin" --config "$cfg" run > /dev/null 2> "$log" &
    daemon=$!
    # The first cycle: every feed polled once (start-up jitter spreads it over ~10 s).
    for _ in $(seq 1 600); do
        [ "$(grep -c 'Feed polled' "$log" || true)" -ge "$n" ] && break
        kill -0 "$daemon" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.5
    done
    [ "$(grep -c 'Feed polled' "$log" || true)" -ge "$n" ] || { echo "first cycle incomplete" >&2; exit 1; }
    sleep "$idle"
    local rss hwm
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$daemon/status")
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$daemon/status")
    kill -TERM "$daemon"
    wait "$daemon"
    daemon=
    echo "$rss $hwm"
}

read -r base_rss base_hwm < <(measure 1)
read -r rss hwm < <(measure "$feeds")
printf 'baseline, 1 feed:   idle RSS %6.1f MiB (peak %6.1f MiB)\n' "$(echo "$base_rss/1024" | bc -l)" "$(echo "$base_hwm/1024" | bc -l)"
printf '%4d feeds x %d items: idle RSS %6.1f MiB (peak %6.1f MiB)\n' "$feeds" "$items" "$(echo "$rss/1024" | bc -l)" "$(echo "$hwm/1024" | bc -l)"
printf 'ratio idle RSS %d feeds / 1 feed: %.2f\n' "$feeds" "$(echo "$rss/$base_rss" | bc -l)"
