#!/usr/bin/env bash
# Kafkaplane's kafka-metadata-quorum.sh for Kafka {{.Version}}: describe the KRaft quorum, add or remove controllers.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.MetadataQuorumCommand "$@"
