#!/usr/bin/env bash
# Time from start to a ready prompt with the embedded broker: `echo quit | kafka-workshop`,
# which starts the broker, waits until it answers metadata, runs `quit` and shuts down.
# Prints the runs and their median. Usage: bench/startup.sh [RUNS]  (default 10)
runs=${1:-10}
source "$(dirname "$0")/common.sh"
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
