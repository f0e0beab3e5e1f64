#!/usr/bin/env bash
# Issue 17's history bench: builds a log of N articles from ../shared/bench/gen_corpus.py
# (issue 17's config: every actor, one sentence rule over any two, stdout notifier) and
# reports, for one parley binary:
#   - run --once: wall, CPU (user+sys) per article, peak RSS;
#   - disk bytes per article after ingest (and `parley store stats`);
#   - RSS of the daemon after a restart (once /readyz answers and the first poll is done);
#   - p50/p99 of `events --actor X --since 7d` and `alerts --since 1d` through the API;
#   - replay: events per second (wall and CPU).
# Compare binaries by running it twice in the same session (other load changes wall, so
# read CPU):
#   benches/history.sh N [PARLEY_BIN]      (default: target/release/parley, built here)
# REQS=50 sets the number of API requests per query (default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: benches/history.sh N [PARLEY_BIN]}
bin=${2:-}
if [ -z "$bin" ]; then
    cargo build --release --locked --quiet
    bin=${CARGO_TARGET_DIR:-target}/release/parley
fi
bin=$(realpath "$bin")
gen=${GEN_CORPUS:-../shared/bench/gen_corpus.py}
items=100
feeds=$(( (n + items - 1) / items ))
work=${WORK:-$(mktemp -d)}
keep=${KEEP:-}
[ -n "$keep" ] || trap 'kill "${daemon:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(( 20000 + RANDOM % 20000 ))

python3 "$gen" "$work" --feeds "$feeds" --items "$items" > /dev/null
python3 benches/corpus_config.py "$work"
printf '[api]\nlisten = "127.0.0.1:%s"\n' "$port" >> "$work/parley.toml"
articles=$(( feeds * items ))
cfg="$work/parley.toml"

echo "binary: $bin"
echo "corpus: $feeds feeds x $items items = $articles articles, $(du -sh "$work/feeds" | cut -f1)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$bin" --config "$cfg" run --once \
    > "$work/once.out" 2> "$work/once.err"
read -r wall user sys rss < "$work/time.txt"
echo "run --once: wall ${wall} s, CPU $(echo "($user + $sys) * 1000 / $articles" | bc -l | xargs printf '%.3f') ms/article, peak RSS $((rss / 1024)) MB"
echo "  $(tail -n 1 "$work/once.out")"
disk=$(du -sb "$work/state" | cut -f1)
echo "disk after ingest: $disk bytes = $((disk / articles)) bytes/article"
"$bin" --config "$cfg" store stats > "$work/stats.txt" 2>/dev/null && sed 's/^/  /' "$work/stats.txt"

# Restart: the daemon reopens the store, polls (everything already seen) and serves the API.
"$bin" --config "$cfg" run > "$work/daemon.out" 2> "$work/daemon.err" &
daemon=$!
for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && break
    sleep 0.5
done
sleep 2
echo "RSS after restart: $(( $(awk '/VmRSS/ {print $2}' /proc/$daemon/status) / 1024 )) MB"

# `--since 7d` relative to the corpus's last article (its dates are in the past): the
# generator dates item I of feed F at 2023-11-01 + F*997 + I*13 minutes.
since=$(python3 -c "import datetime as d; print((d.datetime(2023,11,1) + d.timedelta(minutes=($feeds-1)*997 + ($items-1)*13) - d.timedelta(days=7)).date().isoformat())")
actor=$(python3 -c "import json; print(json.load(open('$work/actors.json'))[0]['id'])")
pct() { sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f ms, p99 %.1f ms (%d requests)", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000, NR}'; }
q() {
    for _ in $(seq 1 "${REQS:-200}"); do
        curl -fsS -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port$1"
    done | pct
}
echo "events --actor $actor --since $since (7 days before the last article): $(q "/api/v1/events?actor=$actor&since=$since")"
echo "alerts --since 1d: $(q "/api/v1/alerts?since=1d")"
kill -TERM "$daemon"; wait "$daemon" || true; daemon=

events=$("$bin" --config "$cfg" events --limit 1 --json 2>/dev/null \
    | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["seq"])')
/usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$bin" --config "$cfg" replay > /dev/null 2>&1
read -r wall user sys rss < "$work/time.txt"
echo "replay: $events events in ${wall} s wall, $(echo "$user + $sys" | bc) s CPU: $(echo "$events / $wall" | bc) events/s wall, $(echo "$events / ($user + $sys)" | bc) events/s CPU; peak RSS $((rss / 1024)) MB"
disk=$(du -sb "$work/state" | cut -f1)
echo "disk after replay: $((disk / articles)) bytes/article"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
