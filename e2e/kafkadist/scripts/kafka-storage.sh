#!/usr/bin/env bash
# Kafkaplane's kafka-storage.sh for Kafka {{.Version}}: format, info, random-uuid (kafka.tools.StorageTool).
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.StorageTool "$@"
