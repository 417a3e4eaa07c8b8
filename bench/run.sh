#!/usr/bin/env bash
# Whole-CLI benchmark: times `rubric run` (and `rubric diff` of a small rule
# change, which should cost at most ~1.3× a run) on generated snapshots beside two
# floors measured on the same file in the same run:
#   io    reading the lines (cat > /dev/null)
#   json  parsing every line into serde_json::Value and dropping it
# and reports wall time and peak RSS (/usr/bin/time -v) as a Markdown table.
#
#   bench/run.sh                 # 100k and 1M contacts
#   SIZES="100000" bench/run.sh  # just 100k
#   REPEAT=3 bench/run.sh        # best of 3
#
# Not part of .ci/run: it takes minutes and its numbers depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"100000 1000000"}
REPEAT=${REPEAT:-1}
DATA=${DATA:-/tmp/rubric-bench}
AS_OF=2026-11-28T00:00:00Z
mkdir -p "$DATA"

# The rule change `rubric diff` is timed on: the hot threshold on intent
# raised from 50 to 55 and one audience added (as in tests/diff.rs).
DIFF_RULES="$DATA/rules-diff"
rm -rf "$DIFF_RULES" && mkdir -p "$DIFF_RULES" && cp rules/*.rubric "$DIFF_RULES/"
sed -i 's/hot  when fit >= 50 and intent >= 50/hot  when fit >= 50 and intent >= 55/' "$DIFF_RULES/20-bands.rubric"
printf '\naudience ads_high_fit when fit >= 80\n' >> "$DIFF_RULES/40-activation.rubric"

cargo build --release --quiet --bin rubric --example gen_snapshot --example json_floor
BIN=target/release/rubric

# Prints "wall_seconds max_rss_mb" of the best of $REPEAT runs of a command.
measure() {
  local best_wall="" best_rss=""
  for _ in $(seq "$REPEAT"); do
    local log
    log=$(mktemp)
    /usr/bin/time -v "$@" > /dev/null 2> "$log" || true
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
    rm -f "$log"
    if [ -z "$best_wall" ] || awk "BEGIN {exit !($wall < $best_wall)}"; then
      best_wall=$wall
      best_rss=$rss
    fi
  done
  echo "$best_wall $best_rss"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "rubric $(git rev-parse --short HEAD 2>/dev/null || echo '?'), rules/ playbook, as-of $AS_OF, best of $REPEAT"
echo
echo "| contacts | file MB | what | wall s | peak RSS MB | contacts/s | vs json floor |"
echo "|---:|---:|---|---:|---:|---:|---:|"
for n in $SIZES; do
  file="$DATA/contacts-$n.jsonl"
  if [ ! -s "$file" ]; then
    target/release/examples/gen_snapshot --contacts "$n" --seed 7 > "$file"
  fi
  mb=$(du -mL "$file" | cut -f1)
  read -r io_wall io_rss < <(measure cat "$file")
  read -r json_wall json_rss < <(measure target/release/examples/json_floor "$file")
  read -r one_wall one_rss < <(measure "$BIN" run --rules rules --contacts "$file" --as-of "$AS_OF" --threads 1)
  read -r two_wall two_rss < <(measure "$BIN" run --rules rules --contacts "$file" --as-of "$AS_OF" --threads 2)
  read -r diff_wall diff_rss < <(measure "$BIN" diff --base rules --rules "$DIFF_RULES" --contacts "$file" --as-of "$AS_OF" --threads 2)
  for row in "io floor (cat)|$io_wall|$io_rss" "json floor (serde_json::Value)|$json_wall|$json_rss" \
             "rubric run, 1 thread|$one_wall|$one_rss" "rubric run, 2 threads|$two_wall|$two_rss" \
             "rubric diff, 2 threads|$diff_wall|$diff_rss"; do
    IFS='|' read -r what wall rss <<< "$row"
    rate=$(awk "BEGIN {printf \"%.0f\", $n / ($wall > 0 ? $wall : 0.001)}")
    ratio=$(awk "BEGIN {printf \"%.2f\", $wall / ($json_wall > 0 ? $json_wall : 0.001)}")
    echo "| $n | $mb | $what | $wall | $rss | $rate | $ratio× |"
  done
  speedup=$(awk "BEGIN {printf \"%.2f\", $one_wall / ($two_wall > 0 ? $two_wall : 0.001)}")
  echo "| $n | | 2 threads vs 1 | | | | speed-up ${speedup}× |"
  diff_ratio=$(awk "BEGIN {printf \"%.2f\", $diff_wall / ($two_wall > 0 ? $two_wall : 0.001)}")
  echo "| $n | | diff vs run, 2 threads | | | | ${diff_ratio}× |"
done
