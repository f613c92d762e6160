#!/usr/bin/env bash
# Kafkaplane's kafka-server-start.sh for Kafka {{.Version}}: starts a broker or controller from a
# server.properties, like the apache/kafka image's (1G heap unless KAFKA_HEAP_OPTS says otherwise,
# the server's log4j2 configuration unless KAFKA_LOG4J_OPTS is set, logs in LOG_DIR).
if [ $# -lt 1 ]; then
  echo "USAGE: $0 server.properties [--override property=value]*" >&2
  exit 1
fi
base_dir=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${KAFKA_LOG4J_OPTS:-}" ]; then
  export KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$base_dir/config/log4j2.properties"
fi
if [ -z "${KAFKA_HEAP_OPTS:-}" ]; then
  export KAFKA_HEAP_OPTS="-Xmx1G -Xms1G"
fi
export KAFKA_RUN_SERVER=1
exec "$base_dir/bin/kafka-run-class.sh" kafka.Kafka "$@"
