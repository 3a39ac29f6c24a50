#!/usr/bin/env bash
# The room's abuse cases against one session with the web page open: idle sockets, 200
# event-stream clients during a 100,000-message produce, escape sequences, and the delete and
# re-create loop. Prints what held, and the process's peak descriptors and memory.
# Usage: bench/abuse.sh
source "$(dirname "$0")/common.sh"
# 5,000 sockets need more than the usual 1,024 descriptors on the benchmark's own side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
KAFKA_WORKSHOP_HOME="$home" python3 "$(dirname "$0")/abuse.py" "$bin"
