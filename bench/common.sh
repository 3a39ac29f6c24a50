# Sourced by the bench scripts: build the release binary once and give each run a private home.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kafka-workshop/target}"
# The same build as `cargo test --release` (dev-dependencies unify some features), so the
# benchmarks and the tests share one set of compiled dependencies.
cargo test --release --no-run --quiet
bin="$CARGO_TARGET_DIR/release/kafka-workshop"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT

# start_broker embedded|apache-kafka: a broker in the background for this bench, its address in
# $addr and, for Apache Kafka, the seconds its node took to be ready in $ready. Stopped on exit.
start_broker() {
  local out="$home/broker-$1.out"
  if [ "$1" = apache-kafka ]; then
    local jars
    jars=$(tests/kafka/fetch.sh)
    "$bin" broker --apache-kafka "$jars" > "$out" 2>&1 &
  else
    "$bin" broker --listen 127.0.0.1:0 > "$out" 2>&1 &
  fi
  brokers="${brokers:-} $!"
  trap 'kill $brokers 2>/dev/null; wait 2>/dev/null; rm -rf "$home"' EXIT
  for _ in $(seq 600); do grep -q "listening on" "$out" 2>/dev/null && break; sleep 0.1; done
  addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$out" | head -1)
  ready=$(sed -n 's/.*ready in \([0-9.]*\) s.*/\1/p' "$out" | head -1)
  [ -n "$addr" ] || { echo "the $1 broker did not start:" >&2; cat "$out" >&2; exit 1; }
}
