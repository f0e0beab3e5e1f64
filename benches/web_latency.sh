#!/usr/bin/env bash
# Latency of every web UI page (src/web) over a log of FEEDS x ITEMS synthetic articles
# (default 100 x 1000 = 100,000; benches/gen_feeds.py, the shipped watchlists), against a
# baseline measured in the same session over the same store: the JSON API's
# /api/v1/alerts, the query the inbox renders. Prints p50/p99/max per page and each page's
# p99 as a ratio of the baseline's.
#
#   benches/web_latency.sh [FEEDS] [ITEMS] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
feeds=${1:-100}
items=${2:-1000}
requests=${3:-100}
#   PARLEY_BIN=path/to/parley   skips the release build
if [ -z "${PARLEY_BIN:-}" ]; then cargo build --release --locked --quiet; fi
bin=$(realpath "${PARLEY_BIN:-${CARGO_TARGET_DIR:-target}/release/parley}")
#   BENCH_DIR=dir   keeps the generated feeds and the filled store there and reuses them on
#                   the next run (filling 10,000 articles takes minutes); removed otherwise
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
if [ ! -f "$work/filled" ]; then
    python3 benches/gen_feeds.py --out "$work" --feeds "$feeds" --items "$items" \
        --watchlists "$PWD/config/watchlists/*.toml"
    t0=$(date +%s)
    "$bin" --config "$work/parley.toml" run --once > /dev/null 2> "$work/once.err"
    echo "filled the store in $(( $(date +%s) - t0 )) s"
    touch "$work/filled"
fi

# Serve the filled store with no feeds, so nothing but the requests uses the CPU.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/serve.toml" <<TOML
include = ["$PWD/config/watchlists/*.toml"]
[daemon]
state_dir = "state"
[api]
listen = "127.0.0.1:$port"
[[notifier]]
id = "console"
type = "stdout"
TOML
"$bin" --config "$work/serve.toml" run > /dev/null 2> "$work/serve.err" &
pid=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break; sleep 0.1; done

python3 - "$port" "$requests" <<'PY'
import http.client, json, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
def get(path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit(f"{path}: HTTP {r.status}: {body[:200]!r}")
    return body
alerts = json.loads(get("/api/v1/alerts?limit=1"))
events = json.loads(get("/api/v1/events?kind=event.extracted&limit=1"))
alert_id = alerts[0]["alert_id"] if alerts else None
a, b = (events[0]["payload"]["actors"] + ["blinken", "safadi"])[:2] if events else ("blinken", "safadi")
seq = [l for l in get("/metrics").decode().splitlines() if l.startswith("parley_log_last_seq ")]
print(f"log: {seq[0].split()[1]} events, {len(json.loads(get('/api/v1/alerts')))} alerts")
pages = [("baseline /api/v1/alerts", "/api/v1/alerts"), ("/", "/")]
if alert_id:
    pages.append(("/alerts/{id}", f"/alerts/{alert_id}"))
pages += [("/actors/{id}", f"/actors/{a}"), ("/pair/{a}/{b}", f"/pair/{a}/{b}"),
          ("/events", "/events"), ("/events?q=", "/events?q=ceasefire"),
          ("/graph?since=30d", "/graph"), ("/graph?since=all", "/graph?since=all"),
          ("/feeds", "/feeds"), ("/watchlist", "/watchlist")]
rows = []
for name, path in pages:
    get(path)  # warm the cache once
    times = []
    for _ in range(n):
        t = time.perf_counter(); get(path); times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    rows.append((name, p(0.5), p(0.99), times[-1]))
base = rows[0][2]
print(f"{'page':28} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'p99/baseline':>13}")
for name, p50, p99, mx in rows:
    print(f"{name:28} {p50:9.1f} {p99:9.1f} {mx:9.1f} {p99 / base:13.2f}")
PY
