#!/usr/bin/env bash
# Time from start to a ready prompt with the embedded broker: `echo quit | kafka-workshop`,
# which starts the broker, waits until it answers metadata, runs `quit` and shuts down.
# Prints the runs and their median. Usage: bench/startup.sh [RUNS]  (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kafka-workshop/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/kafka-workshop"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  echo quit | KAFKA_WORKSHOP_HOME="$home" "$bin" > /dev/null
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
mid=$(( runs / 2 ))
if (( runs % 2 )); then median=${sorted[$mid]}; else median=$(( (sorted[mid-1] + sorted[mid]) / 2 )); fi
printf '| measure                          | value |\n|----------------------------------|-------|\n'
printf '| runs                             | %s |\n' "$runs"
printf '| each (ms)                        | %s |\n' "${times[*]}"
printf '| median start-to-ready-prompt (ms)| %s |\n' "$median"
printf '| goal (ms)                        | 500 |\n'
