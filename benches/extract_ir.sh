#!/bin/sh
# Instructions per pass over the extract bench's corpus, counted by callgrind: a speed figure
# that does not move with the machine's load, for comparing two builds of benches/extract.rs.
#
#   cargo bench --bench extract --no-run          # prints the bench executable's path
#   benches/extract_ir.sh target/release/deps/extract-<hash>
#
# It runs the bench under valgrind for a few seconds and divides the inclusive cost of
# `Extractor::extract` by its number of calls, times the corpus's article count (197).
# Needs valgrind and callgrind_annotate.
set -eu
bin=$1
articles=${ARTICLES:-197}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --bench --profile-time 5 \
    >/dev/null 2>&1
line=$(callgrind_annotate --inclusive=yes --tree=caller "$out" 2>/dev/null |
    grep -B1 '\*  ???:parley::extract::Extractor::extract \[' | head -1)
ir=$(echo "$line" | awk '{gsub(",", "", $1); print $1}')
calls=$(echo "$line" | sed -E 's/.*\(([0-9,]+)x\).*/\1/' | tr -d ,)
echo "$(basename "$bin"): $((ir * articles / calls)) instructions per corpus pass ($calls calls)"
