#!/usr/bin/env bash
# Whole-CLI benchmark: times `rubric run` (and `rubric diff` of a small rule
# change, which should cost at most ~1.3× a run, and `rubric measure` of the
# playbook's `meeting` goal against the generator's outcomes, at most 1.5×) on generated snapshots beside two
# floors measured on the same file in the same run:
#   io    reading the lines (cat > /dev/null)
#   json  parsing every line into serde_json::Value and dropping it
# and reports the best wall time, its CPU time (user + sys), and the peak RSS
# over all rounds (/usr/bin/time) as a Markdown table, for two shapes of ids:
#   sequential  g-0, g-1, … (CRM-style numeric ids)
#   opaque      18-character alphanumeric ids (Salesforce-style)
#
#   bench/run.sh                        # 100k and 1M contacts, both id shapes, 3 rounds
#   SIZES="100000" bench/run.sh         # just 100k
#   IDS=sequential REPEAT=5 bench/run.sh
#
# Each round runs every configuration once, in turn, so that the 1- and
# 2-thread runs of a round see the same machine; the 2-thread speed-up and
# the cost of diff against run are given best against best and as the
# median of the rounds' ratios.
#
# Not part of .ci/run: it takes minutes and its numbers depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"100000 1000000"}
IDS=${IDS:-"sequential opaque"}
REPEAT=${REPEAT:-3}
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

# Runs a command once; prints "wall_seconds max_rss_mb cpu_seconds".
measure_once() {
  local log
  log=$(mktemp)
  /usr/bin/time -f '%e %M %U %S' -o "$log" "$@" > /dev/null 2> /dev/null || true
  awk '{printf "%s %.0f %.2f\n", $1, $2 / 1024, $3 + $4}' "$log"
  rm -f "$log"
}

# The configurations timed on each file, by name.
WHAT=("io floor (cat)" "json floor (serde_json::Value)" "rubric run, 1 thread" "rubric run, 2 threads" "rubric diff, 2 threads" "rubric measure, 2 threads")
run_config() {
  local i=$1 file=$2
  case $i in
    0) measure_once cat "$file" ;;
    1) measure_once target/release/examples/json_floor "$file" ;;
    2) measure_once "$BIN" run --rules rules --contacts "$file" --as-of "$AS_OF" --threads 1 ;;
    3) measure_once "$BIN" run --rules rules --contacts "$file" --as-of "$AS_OF" --threads 2 ;;
    4) measure_once "$BIN" diff --base rules --rules "$DIFF_RULES" --contacts "$file" --as-of "$AS_OF" --threads 2 ;;
    5) measure_once "$BIN" measure --rules rules --contacts "$file" --outcomes "${file%.jsonl}.outcomes.jsonl" \
         --goal meeting --as-of "$AS_OF" --threads 2 --format json ;;
  esac
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rubric $(git rev-parse --short HEAD 2>/dev/null || echo '?'), rules/ playbook, as-of $AS_OF, $REPEAT rounds (each round runs every configuration once, in turn)"
echo
echo "| ids | contacts | file MB | what | best wall s | CPU s | peak RSS MB | contacts/s | vs json floor |"
echo "|---|---:|---:|---|---:|---:|---:|---:|---:|"
declare -A RSS_OF
for ids in $IDS; do
  for n in $SIZES; do
    file="$DATA/contacts-$ids-$n.jsonl"
    if [ ! -s "$file" ] || [ ! -s "${file%.jsonl}.outcomes.jsonl" ]; then
      target/release/examples/gen_snapshot --contacts "$n" --seed 7 --ids "$ids" \
        --outcomes "${file%.jsonl}.outcomes.jsonl" > "$file"
    fi
    mb=$(du -mL "$file" | cut -f1)
    declare -a best_wall=() best_cpu=() max_rss=()
    speedups=()
    diff_ratios=()
    measure_ratios=()
    for _ in $(seq "$REPEAT"); do
      declare -a wall_now=()
      for i in "${!WHAT[@]}"; do
        read -r wall rss cpu < <(run_config "$i" "$file")
        wall_now[i]=$wall
        if [ -z "${best_wall[i]:-}" ] || awk "BEGIN {exit !($wall < ${best_wall[i]})}"; then
          best_wall[i]=$wall
          best_cpu[i]=$cpu
        fi
        if [ -z "${max_rss[i]:-}" ] || [ "$rss" -gt "${max_rss[i]}" ]; then
          max_rss[i]=$rss
        fi
      done
      speedups+=("$(awk "BEGIN {printf \"%.2f\", ${wall_now[2]} / (${wall_now[3]} > 0 ? ${wall_now[3]} : 0.001)}")")
      diff_ratios+=("$(awk "BEGIN {printf \"%.2f\", ${wall_now[4]} / (${wall_now[3]} > 0 ? ${wall_now[3]} : 0.001)}")")
      measure_ratios+=("$(awk "BEGIN {printf \"%.2f\", ${wall_now[5]} / (${wall_now[3]} > 0 ? ${wall_now[3]} : 0.001)}")")
    done
    json_wall=${best_wall[1]}
    for i in "${!WHAT[@]}"; do
      wall=${best_wall[i]}
      rate=$(awk "BEGIN {printf \"%.0f\", $n / ($wall > 0 ? $wall : 0.001)}")
      ratio=$(awk "BEGIN {printf \"%.2f\", $wall / ($json_wall > 0 ? $json_wall : 0.001)}")
      echo "| $ids | $n | $mb | ${WHAT[i]} | $wall | ${best_cpu[i]} | ${max_rss[i]} | $rate | $ratio× |"
    done
    best_speedup=$(awk "BEGIN {printf \"%.2f\", ${best_wall[2]} / (${best_wall[3]} > 0 ? ${best_wall[3]} : 0.001)}")
    echo "| $ids | $n | | 2 threads vs 1 | | | | | speed-up: best ${best_speedup}×, median of rounds $(printf '%s\n' "${speedups[@]}" | median)× (rounds: ${speedups[*]}) |"
    diff_ratio=$(awk "BEGIN {printf \"%.2f\", ${best_wall[4]} / (${best_wall[3]} > 0 ? ${best_wall[3]} : 0.001)}")
    echo "| $ids | $n | | diff vs run, 2 threads | | | | | best ${diff_ratio}×, median of rounds $(printf '%s\n' "${diff_ratios[@]}" | median)× (rounds: ${diff_ratios[*]}) |"
    measure_ratio=$(awk "BEGIN {printf \"%.2f\", ${best_wall[5]} / (${best_wall[3]} > 0 ? ${best_wall[3]} : 0.001)}")
    echo "| $ids | $n | | measure vs run, 2 threads | | | | | best ${measure_ratio}×, median of rounds $(printf '%s\n' "${measure_ratios[@]}" | median)× (rounds: ${measure_ratios[*]}) |"
    RSS_OF["$ids $n 1"]=${max_rss[2]}
    RSS_OF["$ids $n 2"]=${max_rss[3]}
  done
done
# Peak RSS of the largest size against the smallest, per id shape and threads.
small=$(printf '%s\n' $SIZES | sort -n | head -1)
large=$(printf '%s\n' $SIZES | sort -n | tail -1)
if [ "$small" != "$large" ]; then
  echo
  for ids in $IDS; do
    for t in 1 2; do
      a=${RSS_OF["$ids $small $t"]}
      b=${RSS_OF["$ids $large $t"]}
      echo "peak RSS, $ids ids, $t thread(s): $a MB at $small, $b MB at $large: $(awk "BEGIN {printf \"%.2f\", $b / $a}")×"
    done
  done
fi
