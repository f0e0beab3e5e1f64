#!/usr/bin/env bash
# Screenshots of every page of the web UI (src/web) for the README, over the sample config:
# the shipped watchlists and the offline sample feed (config/samples/world-desk.xml) only,
# so the pictures never depend on the network. Needs Debian's chromium
# (apt-get install -y chromium).
#
#   deploy/screenshots.sh [OUT_DIR]        default deploy/screenshots
#   PARLEY_BIN=target/release/parley deploy/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=${1:-deploy/screenshots}
bin=${PARLEY_BIN:-${CARGO_TARGET_DIR:-target}/debug/parley}
[ -x "$bin" ] || cargo build --quiet
command -v chromium >/dev/null || { echo "chromium is not installed: apt-get install -y chromium" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cp config/samples/world-desk.xml "$work/"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/parley.toml" <<TOML
include = ["$repo/config/watchlists/*.toml"]
[daemon]
state_dir = "state"
[api]
listen = "127.0.0.1:$port"
[[feed]]
url = "world-desk.xml"
name = "Parley sample desk"
[[notifier]]
id = "console"
type = "stdout"
TOML
"$bin" --config "$work/parley.toml" run > "$work/daemon.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
# The sample raises four alerts (config/samples/README.md); wait for them (60 s guard).
for _ in $(seq 600); do
    n=$(curl -sf "$base/api/v1/alerts" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0)
    [ "$n" -ge 4 ] && break
    sleep 0.1
done
[ "$n" -ge 4 ] || { echo "the sample's alerts did not arrive; daemon log:" >&2; cat "$work/daemon.log" >&2; exit 1; }
alerts=$(curl -sf "$base/api/v1/alerts")
amman=$(python3 -c 'import json,sys; a=[x for x in json.loads(sys.argv[1]) if x["rule"]=="blinken-arab-fms" and len(x["actors"])==3]; print(a[0]["alert_id"])' "$alerts")
other=$(python3 -c 'import json,sys; a=[x for x in json.loads(sys.argv[1]) if x["rule"]=="blinken-israel"]; print(a[0]["alert_id"])' "$alerts")
# One acknowledged alert, so the inbox shows both states.
curl -sf -X POST "$base/api/v1/alerts/$other/ack" > /dev/null

shot() { # name width height path
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
        --user-data-dir="$work/profile" --window-size="$2,$3" \
        --screenshot="$out/$1.png" "$base$4" > /dev/null 2>&1
    echo "$out/$1.png  $4"
}
shot inbox 1280 900 "/"
shot alert 1280 1500 "/alerts/$amman"
shot actor 1280 1500 "/actors/blinken"
shot pair 1280 1000 "/pair/blinken/safadi"
shot graph 1280 1150 "/graph?since=all"
shot events 1280 1200 "/events?q=ceasefire"
shot feeds 1280 500 "/feeds"
shot watchlist 1280 1200 "/watchlist"
shot phone-inbox 390 844 "/"
shot phone-alert 390 1400 "/alerts/$amman"
