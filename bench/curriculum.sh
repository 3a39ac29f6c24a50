#!/usr/bin/env bash
# Replays every lesson and demo straight through (`replay N --no-pause --check --speed max`), one
# after another, each on its own embedded broker, and prints the time each took and the total.
# Goal (set when there were 13 lessons): lessons 1-13 and the demos in 45 s or less; lessons 14-17
# (liveness, schemas and the two homework exercises) are timed on top. Usage: bench/curriculum.sh
source "$(dirname "$0")/common.sh"
printf '| replay | seconds | result |\n|---|---|---|\n'
total_start=$(date +%s%N)
later=0
for target in $(seq 1 17) shop-1 shop-2 shop-3 shop-4 shop-homework-1 shop-homework-2 pizza-demo zoomcamp-demo; do
  start=$(date +%s%N)
  if KAFKA_WORKSHOP_HOME="$home" "$bin" replay "$target" --no-pause --check --speed max > /dev/null 2>&1; then result=ok; else result=FAILED; fi
  end=$(date +%s%N)
  case "$target" in 14|15|16|17) later=$((later + end - start)) ;; esac
  printf '| %s | %s | %s |\n' "$target" "$(awk "BEGIN {printf \"%.1f\", ($end - $start) / 1e9}")" "$result"
done
total_end=$(date +%s%N)
printf '| lessons 1-13 and the demos | %s | goal <= 45 s |\n' "$(awk "BEGIN {printf \"%.1f\", ($total_end - $total_start - $later) / 1e9}")"
printf '| total, with lessons 14-17 | %s | |\n' "$(awk "BEGIN {printf \"%.1f\", ($total_end - $total_start) / 1e9}")"
