#!/usr/bin/env bash
# Three local Apache Kafka nodes under failure: start, a look right after a leader is killed,
# the failover and the rejoin, as `show` draws them. Median of 5 rounds (or $1), each on its
# own three nodes. Usage: bench/cluster.sh [ROUNDS]
source "$(dirname "$0")/common.sh"
jars=$(tests/kafka/fetch.sh)
python3 bench/cluster.py "$bin" "$jars" "${1:-5}"
