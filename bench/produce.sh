#!/usr/bin/env bash
# `produce --count N` with 100-byte values: kafka-workshop against confluent-kafka (librdkafka,
# like us) and aiokafka (the fish-and-chips demos' client), on the embedded broker (memory
# storage) and on a one-node Apache Kafka, each client in the same run, each to a fresh topic,
# median of RUNS. The Python peers live in a virtualenv of the bench's own.
# Usage: bench/produce.sh [COUNT] [RUNS] [embedded|apache-kafka|both]
source "$(dirname "$0")/common.sh"
count="${1:-200000}"
runs="${2:-3}"
which="${3:-both}"
size=100
venv="$HOME/.cache/kafka-workshop/bench-venv"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check confluent-kafka aiokafka

value=$(printf 'x%.0s' $(seq $size))

ours() {
  KAFKA_WORKSHOP_HOME="$home" "$bin" -b "$addr" <<< "create-topic $1
produce $1 $value --count $count" | sed -n 's/.*(\([0-9,]*\) msg\/s).*/\1/p' | tr -d ,
}
peer() {
  KAFKA_WORKSHOP_HOME="$home" "$bin" -b "$addr" <<< "create-topic $2" > /dev/null
  "$venv/bin/python" "$(dirname "$0")/peers.py" "$1" "$addr" "$2" "$count" "$size"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

bench_on() {
  start_broker "$1"
  declare -A rates
  for client in kafka-workshop confluent-kafka aiokafka; do
    results=""
    for run in $(seq "$runs"); do
      topic="bench-${client}-${run}-$$"
      if [ "$client" = kafka-workshop ]; then r=$(ours "$topic"); else r=$(peer "$client" "$topic"); fi
      results="$results$r"$'\n'
    done
    rates[$client]=$(printf '%s' "$results" | median)
  done
  printf '\n%s%s\n\n' "$1" "${ready:+ (node ready in $ready s)}"
  printf '| client | msg/s (median of %s, %s x %s bytes) | kafka-workshop / client |\n|---|---|---|\n' "$runs" "$count" "$size"
  for client in kafka-workshop confluent-kafka aiokafka; do
    printf '| %s | %s | %s |\n' "$client" "${rates[$client]}" "$(awk "BEGIN {printf \"%.2f\", ${rates[kafka-workshop]} / ${rates[$client]}}")"
  done
}
case "$which" in
  both) bench_on embedded; ready=""; bench_on apache-kafka ;;
  *) bench_on "$which" ;;
esac
