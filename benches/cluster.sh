#!/usr/bin/env bash
# One poll cycle over FEEDS synthetic feeds (ITEMS items each) served over HTTP from a local
# server: three parley nodes on one NATS JetStream server (backend = "nats") against one sled
# node (the baseline), in the same run. Reports the cycle time (start to every feed polled
# once), each node's peak memory (VmHWM), and events/s through the stream.
#
#   benches/cluster.sh [FEEDS] [ITEMS]      (default 20000 x 5)
#
# Needs nats-server (apt-get install nats-server), python3 and curl. Numbers are only
# comparable within one run. KEEP=1 keeps the work folder (node logs), BENCH_LOG sets
# the nodes' RUST_LOG.
#
# The 3-node half used to stall (every NATS request timing out from the first round): the
# daemon held stdout's lock for its whole life, so the generated config's stdout notifier
# froze a runtime worker at the first alert and starved the NATS client (fixed in app.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
feeds=${1:-20000}
items=${2:-5}
# PARLEY_BIN=path skips the release build (e.g. a smoke run of the script with a debug build).
if [ -z "${PARLEY_BIN:-}" ]; then
    cargo build --release --locked --quiet
fi
bin=${PARLEY_BIN:-${CARGO_TARGET_DIR:-target}/release/parley}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT

python3 benches/gen_feeds.py --out "$work" --feeds "$feeds" --items "$items" \
    --watchlists "$PWD/config/watchlists/*.toml" > /dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port=$(free_port)
(cd "$work/feeds" && exec python3 -m http.server "$http_port" --bind 127.0.0.1 > /dev/null 2>&1) &
pids+=($!)
until curl -sf "http://127.0.0.1:$http_port/" > /dev/null; do sleep 0.1; done

# The generated config polls file:// paths: point it at the HTTP server instead, poll once an
# hour (one cycle is measured), give each node its own API port.
base_config() {
    sed -e "s|url = \"feeds/\([^\"]*\)\"|url = \"http://127.0.0.1:$http_port/\1\"|" \
        -e 's|^\[daemon\]$|[daemon]\npoll_interval = "1h"\nper_host_concurrency = 64|' "$work/parley.toml"
}
now() { date +%s.%N; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
polled() {  # feeds polled so far by the node whose state dir is $1
    local addr
    addr=$(cat "$1/api.addr" 2>/dev/null) || { echo 0; return; }
    curl -sf "http://$addr/metrics" | awk '/^parley_feed_polls_(ok|not_modified|failed)_total/ {s += $2} END {print s + 0}'
}

run_nodes() {  # $1 = number of nodes, $2 = extra config; prints cycle seconds
    local n=$1 extra=$2 t0 dirs=() node_pids=()
    for i in $(seq 1 "$n"); do
        local d="$work/node$i"
        rm -rf "$d"; mkdir -p "$d"
        { base_config | sed "s|^state_dir = .*|state_dir = \"$d/state\"|"
          printf '\n[api]\nlisten = "127.0.0.1:0"\n'
          printf '%s' "${extra//NODE/n$i}"; } > "$d/parley.toml"
        dirs+=("$d/state")
    done
    t0=$(now)
    for i in $(seq 1 "$n"); do
        RUST_LOG=${BENCH_LOG:-warn} "$bin" --config "$work/node$i/parley.toml" run > /dev/null 2> "$work/node$i/err.txt" &
        node_pids+=($!); pids+=($!)
    done
    while :; do
        local total=0
        for d in "${dirs[@]}"; do total=$((total + $(polled "$d"))); done
        [ "$total" -ge "$feeds" ] && break
        sleep 0.5
    done
    local t1; t1=$(now)
    CYCLE=$(echo "$t1 - $t0" | bc -l)
    MEM=""
    for p in "${node_pids[@]}"; do MEM="$MEM $(( $(hwm "$p") / 1024 ))MiB"; done
    for p in "${node_pids[@]}"; do kill -TERM "$p"; wait "$p" || true; done
}

echo "== $feeds feeds x $items items over HTTP"
run_nodes 1 ""
sled_cycle=$CYCLE; sled_mem=$MEM
printf 'sled, 1 node:  cycle %.1f s; peak memory%s\n' "$sled_cycle" "$sled_mem"

nats_port=$(free_port)
mkdir -p "$work/nats"
nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$work/nats" > "$work/nats.log" 2>&1 &
pids+=($!)
until grep -qs "Server is ready" "$work/nats.log"; do sleep 0.1; done
log=$(printf '\n[log]\nbackend = "nats"\nurl = "nats://127.0.0.1:%s"\nnode_id = "NODE"\n' "$nats_port")
run_nodes 3 "$log"
nats_cycle=$CYCLE; nats_mem=$MEM
seq=$(RUST_LOG=warn "$bin" --config "$work/node1/parley.toml" cluster status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["stream_last_seq"])')
printf 'nats, 3 nodes: cycle %.1f s; peak memory%s; %d events, %.0f events/s through the stream\n' \
    "$nats_cycle" "$nats_mem" "$seq" "$(echo "$seq / $nats_cycle" | bc -l)"
printf 'ratio cycle nats-3/sled-1: %.2f\n' "$(echo "$nats_cycle / $sled_cycle" | bc -l)"
