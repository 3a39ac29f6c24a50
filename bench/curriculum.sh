#!/usr/bin/env bash
# Replays every lesson and demo straight through (`replay N --no-pause --check --speed max`), one
# after another: first each on its own embedded broker, then all on one local one-node Apache
# Kafka (each as its own learner, as a workshop's learners share a cluster). Prints the time each
# took and the totals. Goals: lessons 1-13 and the demos in 45 s or less on the embedded broker
# (set when there were 13 lessons); the whole curriculum on Apache Kafka in no more than twice
# its time on the embedded broker. Usage: bench/curriculum.sh [embedded|apache-kafka|both]
source "$(dirname "$0")/common.sh"
which="${1:-both}"
targets="$(seq 1 17) shop-1 shop-2 shop-3 shop-4 shop-homework-1 shop-homework-2 pizza-demo zoomcamp-demo"
declare -A totals

replay_all() {
  local flags=() n=0
  if [ "$1" = apache-kafka ]; then
    start_broker apache-kafka
    export KAFKA_HOME
    KAFKA_HOME=$(tests/kafka/fetch.sh)
    printf '\nApache Kafka (node ready in %s s)\n\n' "$ready"
  else
    printf '\nthe embedded broker\n\n'
  fi
  printf '| replay | seconds | result |\n|---|---|---|\n'
  local total_start later=0
  total_start=$(date +%s%N)
  for target in $targets; do
    n=$((n + 1))
    if [ "$1" = apache-kafka ]; then flags=(-b "$addr" --learner "bench$n-$$" --private); fi
    start=$(date +%s%N)
    if KAFKA_WORKSHOP_HOME="$home" "$bin" "${flags[@]}" replay "$target" --no-pause --check --speed max > "$home/replay.out" 2>&1; then result=ok; else result=FAILED; fi
    end=$(date +%s%N)
    case "$target" in 14|15|16|17) later=$((later + end - start)) ;; esac
    printf '| %s | %s | %s |\n' "$target" "$(awk "BEGIN {printf \"%.1f\", ($end - $start) / 1e9}")" "$result"
  done
  local total_end
  total_end=$(date +%s%N)
  totals[$1]=$(awk "BEGIN {printf \"%.1f\", ($total_end - $total_start) / 1e9}")
  printf '| lessons 1-13 and the demos | %s | goal <= 45 s on the embedded broker |\n' "$(awk "BEGIN {printf \"%.1f\", ($total_end - $total_start - $later) / 1e9}")"
  printf '| total, with lessons 14-17 | %s | |\n' "${totals[$1]}"
}

case "$which" in
  both)
    replay_all embedded
    replay_all apache-kafka
    printf '\nApache Kafka / embedded: %s (goal <= 2.0)\n' "$(awk "BEGIN {printf \"%.2f\", ${totals[apache-kafka]} / ${totals[embedded]}}")"
    ;;
  *) replay_all "$which" ;;
esac
