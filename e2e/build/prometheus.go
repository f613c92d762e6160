package build

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Prometheus returns the path of the Prometheus server, building it from the pinned module in
// pkg/hack/prometheus (outside go.work) when the cache has none for that pin: only the
// Kubernetes service discovery is linked in, and no web UI assets (the HTTP API serves queries).
func Prometheus(log io.Writer) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	mod := filepath.Join(root, "pkg", "hack", "prometheus")
	key, err := cacheKey(mod, "go.mod", "go.sum", "tools.go")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(cache, "bin", "prometheus-"+key)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	unlock, err := lock(bin + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	fmt.Fprintln(log, "building prometheus (pkg/hack/prometheus; cached in "+filepath.Dir(bin)+"); the first build takes a few minutes…")
	start := time.Now()
	tmp := bin + ".tmp"
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "remove_all_sd,enable_kubernetes_sd", "-ldflags", "-s -w", "-o", tmp,
		"github.com/prometheus/prometheus/cmd/prometheus")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building prometheus: %w", err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "built prometheus in %s\n", time.Since(start).Round(time.Second))
	return bin, nil
}
