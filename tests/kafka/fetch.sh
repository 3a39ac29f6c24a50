#!/usr/bin/env bash
# Apache Kafka's jars from Maven Central, for the tests and benchmarks: the version pom.xml
# pins, copied once into a folder outside the checkout, which this prints. A later run finds
# the folder complete and downloads nothing. Java and Maven are installed with apt-get when
# they are missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
cache="${KAFKA_WORKSHOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-workshop}"
libs="$cache/apache-kafka-$version/libs"
# The pom itself is part of what was fetched: a changed pom fetches again.
stamp="$libs/.complete-$(sha256sum "$here/pom.xml" | cut -c1-16)"
if [ -e "$stamp" ]; then
  echo "$libs"
  exit 0
fi
mkdir -p "$cache"
exec 9>"$cache/fetch.lock"
flock 9
if [ -e "$stamp" ]; then
  echo "$libs"
  exit 0
fi
missing=()
java -version >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
mvn -v >/dev/null 2>&1 || missing+=(maven)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} with apt-get" >&2
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >&2
fi
echo "fetching Apache Kafka $version from Maven Central into $libs" >&2
rm -rf "$libs.partial"
mvn -q -B -f "$here/pom.xml" -Dmaven.repo.local="$cache/m2" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs.partial" >&2
rm -rf "$libs"
mv "$libs.partial" "$libs"
touch "$stamp"
echo "$libs"
