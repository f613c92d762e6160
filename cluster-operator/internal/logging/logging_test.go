package logging

import (
	"reflect"
	"strings"
	"testing"
)

func TestInline(t *testing.T) {
	props, levels, err := Inline(map[string]string{"rootLogger.level": "warn", "logger.coord.name": "kafka.coordinator", "logger.coord.level": "DEBUG",
		"logger.req.name": "kafka.request.logger", "logger.req.level": "info"})
	if err != nil {
		t.Fatal(err)
	}
	want := Levels{Root: "WARN", "kafka.coordinator": "DEBUG", "kafka.request.logger": "INFO", "kafka.authorizer.logger": "INFO"}
	if !reflect.DeepEqual(levels, want) {
		t.Errorf("levels %v, want %v", levels, want)
	}
	for _, line := range []string{"rootLogger.level = WARN", "= kafka.coordinator\n", "appender.stdout.type = Console"} {
		if !strings.Contains(props, line) {
			t.Errorf("properties lack %q:\n%s", line, props)
		}
	}
	for _, bad := range []map[string]string{
		{"kafka.root.logger.level": "INFO"},              // log4j1's form
		{"logger.x.level": "DEBUG"},                      // no name
		{"logger.x.name": "kafka"},                       // no level
		{"rootLogger.level": "LOUD"},                     // no such level
		{"logger.x.name": "kafka", "logger.x.level": ""}, // empty level
	} {
		if _, _, err := Inline(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if d := Default(); !strings.Contains(d, "rootLogger.level = INFO") || !strings.Contains(d, "kafka.request.logger") {
		t.Errorf("default:\n%s", d)
	}
}

// A logger takes its nearest ancestor's level in the spec, so that removing a logger from the
// spec undoes the level it had set at runtime.
func TestDesired(t *testing.T) {
	want := Levels{Root: "INFO", "kafka.coordinator": "DEBUG"}
	current := map[string]string{Root: "INFO", "kafka.coordinator": "INFO", "kafka.coordinator.group.GroupCoordinator": "INFO",
		"kafka.server.KafkaApis": "TRACE", "org.apache.kafka": "INFO"}
	got := Desired(want, current)
	exp := Levels{"kafka.coordinator": "DEBUG", "kafka.coordinator.group.GroupCoordinator": "DEBUG", "kafka.server.KafkaApis": "INFO"}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("Desired = %v, want %v", got, exp)
	}
	// Kafka refuses to set a logger it does not have.
	if got := Desired(want, map[string]string{Root: "INFO"}); len(got) != 0 {
		t.Errorf("a logger the node lacks is set: %v", got)
	}
}

// FuzzInline: any inline loggers either are refused or render a configuration with exactly the
// operator's lines plus two per logger (name, level) and the root level: nothing a user writes
// adds a line of its own (an appender writing files, say).
func FuzzInline(f *testing.F) {
	f.Add("rootLogger.level", "INFO", "logger.a.name", "kafka", "logger.a.level", "DEBUG")
	f.Add("logger.x.name", "kafka\nappender.f.type = File", "logger.x.level", "INFO", "rootLogger.level", "WARN")
	f.Add("logger.x.name", "a=b", "logger.x.level", "INFO", "k", "v")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		props, levels, err := Inline(map[string]string{k1: v1, k2: v2, k3: v3})
		if err != nil {
			return
		}
		var lines int
		for _, l := range strings.Split(props, "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				lines++
			}
		}
		header := strings.Count(header, "\n") - 1 // without the comment line
		if want := header + 1 + 2*(len(levels)-1); lines != want {
			t.Fatalf("%d lines, want %d:\n%s", lines, want, props)
		}
		for name := range levels {
			if strings.ContainsAny(name, "\n\r=:\\ ") {
				t.Fatalf("logger name %q accepted", name)
			}
		}
	})
}
