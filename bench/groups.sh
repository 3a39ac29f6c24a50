#!/usr/bin/env bash
# Consumer-group figures on the embedded broker, printed as a table:
#   - graceful stop -> partitions reassigned (goal <= 1 s)
#   - kill -> partitions reassigned (goal <= session timeout + 1 s; session timeout 6 s)
#   - peak RSS of the REPL process with the embedded broker and 10 running consumers (goal <= 150 MB)
# Usage: bench/groups.sh [ROUNDS]  (default 3)
rounds=${1:-3}
source "$(dirname "$0")/common.sh"

takeover() { # $1 = stop-consumer | kill-consumer; prints seconds
  printf '%s\n' \
    "create-topic t --partitions 2" \
    "start-consumer a --group g --topic t" \
    "start-consumer b --group g --topic t" \
    "expect consumer a assigned t[0] --within 30s" \
    "expect consumer b assigned t[1] --within 30s" \
    "$1 a" |
    KAFKA_WORKSHOP_HOME="$home" "$bin" | sed -n 's/.*reassigned .* after \([0-9.]*\) s/\1/p'
}

stops=(); kills=()
for _ in $(seq "$rounds"); do
  stops+=("$(takeover stop-consumer)")
  kills+=("$(takeover kill-consumer)")
done

# RSS: keep a session alive with 10 consumers and read its peak resident size.
out="$home/rss.out"; fifo="$home/in"; mkfifo "$fifo"
KAFKA_WORKSHOP_HOME="$home" "$bin" < "$fifo" > "$out" 2>&1 &
pid=$!
exec 3> "$fifo"
{
  echo "create-topic t --partitions 10"
  echo "produce t 'order {n}' --count 10000"
  for i in $(seq 10); do echo "start-consumer c$i --group g --topic t --from earliest"; done
  echo "expect group g members 10 --within 60s"
  echo "poll c1 100"
  echo "consumers"
} >&3
for _ in $(seq 600); do grep -q "^| NAME" "$out" && break; sleep 0.1; done
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
exec 3>&-
wait "$pid" || true

printf '| measure                                   | rounds | values (s)        | goal |\n'
printf '|-------------------------------------------|--------|-------------------|------|\n'
printf '| graceful stop -> reassigned               | %s | %s | <= 1 s |\n' "$rounds" "${stops[*]}"
printf '| kill -> reassigned (session timeout 6 s)  | %s | %s | <= 7 s |\n' "$rounds" "${kills[*]}"
printf '| peak RSS, embedded broker + 10 consumers  | 1 | %s MB | <= 150 MB |\n' "$((rss_kb / 1024))"
