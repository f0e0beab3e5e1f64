#!/usr/bin/env bash
# Times `parley run --once` over N synthetic local feeds x M full-text items (default 50 x 100,
# about 14 MB), against a baseline measured in the same session: `cat` of the same files
# (the cost of just reading the bytes). Prints both and their ratio.
#
#   benches/run_once.sh [FEEDS] [ITEMS]
set -euo pipefail
cd "$(dirname "$0")/.."
feeds=${1:-50}
items=${2:-100}
cargo build --release --locked --quiet
bin=${CARGO_TARGET_DIR:-target}/release/parley
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/gen_feeds.py --out "$work" --feeds "$feeds" --items "$items" \
    --watchlists "$PWD/config/watchlists/*.toml"

now() { date +%s.%N; }
t0=$(now); cat "$work"/feeds/*.xml > /dev/null; t1=$(now)
baseline=$(echo "$t1 - $t0" | bc -l)

runs=3
best=
for r in $(seq 1 $runs); do
    rm -rf "$work/state"
    t0=$(now)
    "$bin" --config "$work/parley.toml" run --once > "$work/out.txt" 2> "$work/err.txt"
    t1=$(now)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
done
echo "summary: $(tail -n 1 "$work/out.txt")"
printf 'run --once (fresh store, best of %d): %.3f s\n' "$runs" "$best"
printf 'baseline cat of the same files:      %.4f s\n' "$baseline"
printf 'ratio run/cat: %.0fx\n' "$(echo "$best / $baseline" | bc -l)"

t0=$(now)
"$bin" --config "$work/parley.toml" run --once > "$work/out2.txt" 2> /dev/null
t1=$(now)
printf 'second run --once (everything already seen): %.3f s\n' "$(echo "$t1 - $t0" | bc -l)"
echo "second summary: $(tail -n 1 "$work/out2.txt")"
