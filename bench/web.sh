#!/usr/bin/env bash
# The live picture under load: produce rate with the web page open against without it, frames
# the page receives during a big produce, and the p95 time from a change the session sees to
# the page and to a `watch` frame at a terminal. Usage: bench/web.sh [RUNS]  (default 5)
source "$(dirname "$0")/common.sh"
KAFKA_WORKSHOP_HOME="$home" python3 "$(dirname "$0")/web.py" "$bin" "${1:-5}"
