#!/usr/bin/env bash
# Runs one class of Kafka on /opt/kafka/libs in the foreground, reading the environment Kafka's
# own bin/kafka-run-class.sh reads: KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_LOG4J_OPTS,
# KAFKA_JMX_OPTS, KAFKA_OPTS, LOG_DIR, CLASSPATH, JAVA_HOME.
set -euo pipefail
base="$(cd "$(dirname "$0")/.." && pwd)"
case "${1:-}" in
  "") echo "usage: $(basename "$0") classname [opts]" >&2; exit 1 ;;
  -daemon|-name|-loggc) echo "$(basename "$0"): $1 is not supported in this image (it runs in the foreground and logs to the console)" >&2; exit 1 ;;
esac

heap="${KAFKA_HEAP_OPTS:--Xmx256M}"
performance="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"
log4j="${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base/config/tools-log4j2.yaml}"
classpath="${CLASSPATH:+$CLASSPATH:}$base/libs/*"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# Each *_OPTS holds several JVM flags: split them on spaces, without glob expansion.
set -f
# shellcheck disable=SC2086
exec "$java" $heap $performance ${KAFKA_JMX_OPTS:-} "-Dkafka.logs.dir=${LOG_DIR:-$base/logs}" $log4j ${KAFKA_OPTS:-} \
  -cp "$classpath" "$@"
