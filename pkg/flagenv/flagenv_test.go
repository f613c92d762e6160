package flagenv

import (
	"flag"
	"testing"
)

func TestEnvFallbackAndFlagPrecedence(t *testing.T) {
	env := map[string]string{
		"KAFKAPLANE_WATCH_NAMESPACES": "a,b",
		"KAFKAPLANE_WORKERS":          "9",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	ns := fs.String("watch-namespaces", "", "")
	workers := fs.Int("workers", 1, "")
	addr := fs.String("http-address", ":8080", "")
	if err := Parse(fs, []string{"--workers=3"}, lookup); err != nil {
		t.Fatal(err)
	}
	if *ns != "a,b" {
		t.Errorf("watch-namespaces = %q, want it from the environment", *ns)
	}
	if *workers != 3 {
		t.Errorf("workers = %d, want the command line's 3 over the environment's 9", *workers)
	}
	if *addr != ":8080" {
		t.Errorf("http-address = %q, want the default", *addr)
	}
}

func TestBadEnvValueIsAnError(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Int("workers", 1, "")
	err := Parse(fs, nil, func(k string) (string, bool) { return "many", k == "KAFKAPLANE_WORKERS" })
	if err == nil {
		t.Fatal("a non-numeric KAFKAPLANE_WORKERS was accepted")
	}
}
