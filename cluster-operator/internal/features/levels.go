package features

import (
	"strconv"
	"strings"
)

// levels are metadata.version's names and feature levels, as Kafka's MetadataVersion lists them
// (3.3-IV3 is the oldest KRaft level Kafka 4 reads; 4.4-IV2 the newest production level of
// Kafka 4.4.0). Read from kafka-server-common 4.1.1 and 4.4.0.
var levels = []string{
	7: "3.3-IV3", "3.4-IV0", "3.5-IV0", "3.5-IV1", "3.5-IV2", "3.6-IV0", "3.6-IV1", "3.6-IV2",
	"3.7-IV0", "3.7-IV1", "3.7-IV2", "3.7-IV3", "3.7-IV4", "3.8-IV0", "3.9-IV0",
	"4.0-IV0", "4.0-IV1", "4.0-IV2", "4.0-IV3", "4.1-IV0", "4.1-IV1",
	"4.2-IV0", "4.2-IV1", "4.3-IV0", "4.4-IV0", "4.4-IV1", "4.4-IV2",
}

// Level is the feature level of a metadata.version name: "4.1-IV1", or a release ("4.1"), which
// stands for its newest level, as kafka-storage and kafka-features read it.
func Level(name string) (int16, bool) {
	release := !strings.Contains(name, "-IV")
	found := int16(-1)
	for l, n := range levels {
		if n == "" {
			continue
		}
		if n == name || release && strings.HasPrefix(n, name+"-IV") {
			found = int16(l)
		}
	}
	return found, found >= 0
}

// Name is a feature level's metadata.version name ("level N" when it is not known).
func Name(level int16) string {
	if level >= 0 && int(level) < len(levels) && levels[level] != "" {
		return levels[level]
	}
	return "level " + strconv.Itoa(int(level))
}
