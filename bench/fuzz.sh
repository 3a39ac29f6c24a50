#!/usr/bin/env bash
# A long property-test campaign over the grammar, the expect conditions and the lesson parser
# (tests/fuzz.rs): CASES per property, five properties. Usage: bench/fuzz.sh [CASES]
# The default, 250000, makes 1,250,000 cases in all. `cargo test` runs 2,000 per property.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kafka-workshop/target}"
cases="${1:-250000}"
properties=$(grep -c "^    fn " tests/integration/fuzz.rs)
start=$(date +%s)
PROPTEST_CASES="$cases" cargo test --release --quiet --test integration fuzz::
end=$(date +%s)
printf '| properties | cases each | cases in all | seconds | panics |\n|---|---|---|---|---|\n'
printf '| %s | %s | %s | %s | 0 |\n' "$properties" "$cases" "$((properties * cases))" "$((end - start))"
