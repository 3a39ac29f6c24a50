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
