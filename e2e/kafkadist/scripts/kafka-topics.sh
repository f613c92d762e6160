#!/usr/bin/env bash
# Kafkaplane's kafka-topics.sh for Kafka {{.Version}}.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.TopicCommand "$@"
