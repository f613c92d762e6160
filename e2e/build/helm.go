package build

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// Helm returns the path of the Helm CLI, building it from the pinned helm.sh/helm module in
// pkg/hack/helm (outside go.work) when the cache has none for that pin.
func Helm(log io.Writer) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	mod := filepath.Join(root, "pkg", "hack", "helm")
	key, err := cacheKey(mod, "go.mod", "go.sum")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(cache, "bin", "helm-"+key)
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
	fmt.Fprintln(log, "building helm (pkg/hack/helm; cached in "+filepath.Dir(bin)+")…")
	tmp := bin + ".tmp"
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, "helm.sh/helm/v3/cmd/helm")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building helm: %w", err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}
