#!/usr/bin/env bash
# Consumer-group figures on the embedded broker, printed as a table (median of ROUNDS):
#   - a consumer joins a running group -> the newcomer assigned, and -> every member assigned
#     (goal <= 1 s each, with the 0.5 s heartbeat)
#   - graceful stop -> partitions reassigned (goal <= 1 s)
#   - kill -> partitions reassigned (goal <= session timeout + 1 s; session timeout 6 s)
#   - peak RSS of the REPL process with the embedded broker and 10 consumers (goal <= 150 MB)
# Usage: bench/groups.sh [ROUNDS]  (default 5)
rounds=${1:-5}
source "$(dirname "$0")/common.sh"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

join_times() { # prints "newcomer every" in seconds: a running group of two, a third joins
  printf '%s\n' \
    "create-topic t --partitions 3" \
    "start-consumer a --group g --topic t" \
    "start-consumer b --group g --topic t" \
    "expect consumer a assigned t[0,1] --within 30s" \
    "expect consumer b assigned t[2] --within 30s" \
    "start-consumer c --group g --topic t" \
    "expect consumer c assigned t[2] --within 30s" \
    "expect consumer b assigned t[1] --within 30s" \
    "expect consumer a assigned t[0] --within 30s" |
    KAFKA_WORKSHOP_HOME="$home" "$bin" |
    awk '/consumer [abc] is assigned/ { n++; t = 0; if (match($0, /waited [0-9.]+ s/)) t = substr($0, RSTART + 7, RLENGTH - 9);
         if (n == 3) newcomer = t; if (n >= 3) every += t } END { print newcomer, every }'
}

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

newcomers=(); everyone=(); stops=(); kills=()
for _ in $(seq "$rounds"); do
  read -r newcomer every < <(join_times)
  newcomers+=("$newcomer"); everyone+=("$every")
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

row() { printf '| %s | %s | %s | %s |\n' "$1" "$(printf '%s\n' "${@:3}" | median)" "$(echo "${@:3}")" "$2"; }
printf '| measure | median (s) | each round (s) | goal |\n|---|---|---|---|\n'
row "a consumer joins a running group -> the newcomer assigned" "<= 1 s" "${newcomers[@]}"
row "a consumer joins a running group -> every member assigned" "<= 1 s" "${everyone[@]}"
row "graceful stop -> reassigned" "<= 1 s" "${stops[@]}"
row "kill -> reassigned (session timeout 6 s)" "<= 7 s" "${kills[@]}"
printf '| peak RSS, embedded broker + 10 consumers | %s MB | | <= 150 MB |\n' "$((rss_kb / 1024))"
