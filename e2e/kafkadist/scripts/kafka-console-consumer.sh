#!/usr/bin/env bash
# Kafkaplane's kafka-console-consumer.sh for Kafka {{.Version}}, like the image's: a 512M heap unless KAFKA_HEAP_OPTS says otherwise.
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512M}"
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.consumer.ConsoleConsumer "$@"
