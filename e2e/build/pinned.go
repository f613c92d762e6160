package build

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// pinnedTool is a CLI built from a module of pkg/hack pinned outside go.work.
type pinnedTool struct {
	// name of the binary in the cache (name-<key>); module the directory under pkg/hack (dir,
	// when set, the module's directory from the repository root instead); pkg the main package;
	// keyFiles the module's files whose content keys the cache.
	name, module, dir, pkg string
	keyFiles               []string
	tags, ldflags          string
}

// build returns the path of the tool's binary, building it when the cache has none for its pin.
// Concurrent callers (parallel test binaries) wait for one build.
func (p pinnedTool) build(log io.Writer) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	mod := filepath.Join(root, "pkg", "hack", p.module)
	if p.dir != "" {
		mod = filepath.Join(root, p.dir)
	}
	key, err := cacheKey(mod, p.keyFiles...)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(cache, "bin", p.name+"-"+key)
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
	rel, _ := filepath.Rel(root, mod)
	fmt.Fprintf(log, "building %s (%s; cached in %s)…\n", p.name, rel, filepath.Dir(bin))
	start := time.Now()
	tmp := bin + ".tmp"
	args := []string{"build", "-trimpath"}
	if p.tags != "" {
		args = append(args, "-tags", p.tags)
	}
	if p.ldflags != "" {
		args = append(args, "-ldflags", p.ldflags)
	}
	cmd := exec.Command("go", append(args, "-o", tmp, p.pkg)...)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building %s: %w", p.name, err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "built %s in %s\n", p.name, time.Since(start).Round(time.Second))
	return bin, nil
}
