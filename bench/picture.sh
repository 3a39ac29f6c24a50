#!/usr/bin/env bash
# The picture over many topics (8, 50, and 100 × 10 partitions): `show` and `/api/state`, on the
# embedded broker and on one Apache Kafka node. Usage: bench/picture.sh [RUNS]  (default 5)
source "$(dirname "$0")/common.sh"
runs="${1:-5}"
KAFKA_WORKSHOP_HOME="$home" python3 "$(dirname "$0")/picture.py" "$bin" "$runs" embedded
start_broker apache-kafka
KAFKA_WORKSHOP_HOME="$home" python3 "$(dirname "$0")/picture.py" "$bin" "$runs" "$addr"
