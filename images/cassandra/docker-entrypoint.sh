#!/usr/bin/env bash
# The official cassandra image's contract: CASSANDRA_* environment edits cassandra.yaml and
# cassandra-rackdc.properties, then `cassandra -f` runs the node in the foreground.
set -euo pipefail

if [ "${1:-}" != "cassandra" ]; then exec "$@"; fi

conf=/etc/cassandra/cassandra.yaml
ip="$(hostname -i | cut -d' ' -f1)"
: "${CASSANDRA_LISTEN_ADDRESS:=$ip}"
: "${CASSANDRA_BROADCAST_ADDRESS:=$CASSANDRA_LISTEN_ADDRESS}"
: "${CASSANDRA_BROADCAST_RPC_ADDRESS:=$CASSANDRA_BROADCAST_ADDRESS}"
: "${CASSANDRA_SEEDS:=$CASSANDRA_BROADCAST_ADDRESS}"

set_yaml() { # set_yaml key value: replaces a top-level key, or appends it
  if grep -qE "^(# )?$1:" "$conf"; then sed -ri "s|^(# )?($1:).*|\2 $2|" "$conf"; else echo "$1: $2" >> "$conf"; fi
}
set_yaml listen_address "$CASSANDRA_LISTEN_ADDRESS"
set_yaml broadcast_address "$CASSANDRA_BROADCAST_ADDRESS"
set_yaml broadcast_rpc_address "$CASSANDRA_BROADCAST_RPC_ADDRESS"
sed -ri "s|(- seeds:).*|\1 \"$CASSANDRA_SEEDS\"|" "$conf"
[ -n "${CASSANDRA_CLUSTER_NAME:-}" ] && set_yaml cluster_name "'$CASSANDRA_CLUSTER_NAME'"
[ -n "${CASSANDRA_NUM_TOKENS:-}" ] && set_yaml num_tokens "$CASSANDRA_NUM_TOKENS"
[ -n "${CASSANDRA_ENDPOINT_SNITCH:-}" ] && set_yaml endpoint_snitch "$CASSANDRA_ENDPOINT_SNITCH"
[ -n "${CASSANDRA_DC:-}" ] && sed -ri "s|^dc=.*|dc=$CASSANDRA_DC|" /etc/cassandra/cassandra-rackdc.properties
[ -n "${CASSANDRA_RACK:-}" ] && sed -ri "s|^rack=.*|rack=$CASSANDRA_RACK|" /etc/cassandra/cassandra-rackdc.properties

heap="${MAX_HEAP_SIZE:-1G}"
newsize="${HEAP_NEWSIZE:-256M}"
lib=/opt/cassandra/lib
jamm="$(ls "$lib"/jamm-*.jar 2>/dev/null | head -1)"
# From Cassandra's conf/jvm17-server.options: what Java 17 must open for it.
exec java -Xms"$heap" -Xmx"$heap" -Xmn"$newsize" -Xss256k -Djava.net.preferIPv4Stack=true \
  -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxGCPauseMillis=300 -XX:+ExitOnOutOfMemoryError \
  -Djdk.attach.allowAttachSelf=true -Dio.netty.tryReflectionSetAccessible=true \
  ${jamm:+-javaagent:$jamm} \
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED \
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED \
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED \
  --add-exports java.sql/java.sql=ALL-UNNAMED \
  --add-exports java.base/java.lang.ref=ALL-UNNAMED \
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED \
  --add-opens java.base/java.lang.module=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED \
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED \
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
  --add-opens java.base/java.io=ALL-UNNAMED \
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED \
  --add-opens java.base/java.lang=ALL-UNNAMED \
  --add-opens java.base/java.util=ALL-UNNAMED \
  --add-opens java.base/java.nio=ALL-UNNAMED \
  -Dcassandra.config=file://$conf \
  -Dcassandra.storagedir=/var/lib/cassandra \
  -Dcassandra.logdir=/var/lib/cassandra \
  -Dlogback.configurationFile=/etc/cassandra/logback.xml \
  -Dcassandra-foreground=yes \
  -Dcassandra.ring_delay_ms="${CASSANDRA_RING_DELAY_MS:-5000}" \
  -cp "/etc/cassandra:$lib/*" org.apache.cassandra.service.CassandraDaemon
