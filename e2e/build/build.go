// Package build compiles what the tests and the sandbox run: the control plane (etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler in one binary, cached across runs
// and rebuilt only when its pin changes) and our three operators.
package build

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// KubernetesVersion is the version the control plane is built at; keep it equal to the
// k8s.io/kubernetes requirement of e2e/controlplane/go.mod.
const KubernetesVersion = "v1.37.2"

// RepoRoot is the directory holding go.work, found from the working directory upwards.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the repository root: no go.work above the working directory")
		}
		dir = parent
	}
}

// CacheDir is $KAFKAPLANE_CACHE, or ~/.cache/kafkaplane.
func CacheDir() (string, error) {
	if d := os.Getenv("KAFKAPLANE_CACHE"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(home, ".cache", "kafkaplane"), nil
}

// ControlPlane returns the path of the control-plane binary, building it first when the cache
// has none for the current pin. Concurrent callers (parallel test binaries) wait for one build.
// Build output goes to log.
func ControlPlane(log io.Writer) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	src := filepath.Join(root, "e2e", "controlplane")
	key, err := cacheKey(src, "go.mod", "go.sum", "main.go")
	if err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "controlplane-"+KubernetesVersion+"-"+key)
	bin := filepath.Join(dir, "controlplane")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	unlock, err := lock(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil { // built by another process while we waited
		return bin, nil
	}
	fmt.Fprintf(log, "building the control plane (Kubernetes %s, etcd) into %s; the first build takes several minutes\n", KubernetesVersion, dir)
	start := time.Now()
	minor := strings.Split(strings.TrimPrefix(KubernetesVersion, "v"), ".")
	ldflags := strings.Join([]string{
		"-s", "-w",
		"-X k8s.io/component-base/version.gitVersion=" + KubernetesVersion,
		"-X k8s.io/component-base/version.gitMajor=" + minor[0],
		"-X k8s.io/component-base/version.gitMinor=" + minor[1],
		"-X k8s.io/component-base/version.gitTreeState=clean",
		"-X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z",
	}, " ")
	tmp := bin + ".tmp"
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", tmp, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the control plane in %s: %w", src, err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("installing the control plane binary: %w", err)
	}
	fmt.Fprintf(log, "built the control plane in %s\n", time.Since(start).Round(time.Second))
	return bin, nil
}

// Operators builds cluster-operator, topic-operator and user-operator, the harness's podinit and
// the jmx-exporter image's cp (pkg/cmd/copyfile), into dir and returns their paths by binary name.
func Operators(dir string, log io.Writer) (map[string]string, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	names := []string{"cluster-operator", "topic-operator", "user-operator", "podinit", "copyfile"}
	args := []string{"build", "-o", dir + string(os.PathSeparator), "./cluster-operator", "./topic-operator",
		"./user-operator", "./e2e/cmd/podinit", "./pkg/cmd/copyfile"}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("building the operators: %w", err)
	}
	out := map[string]string{}
	for _, n := range names {
		out[n] = filepath.Join(dir, n)
	}
	return out, nil
}

func cacheKey(dir string, files ...string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", f, err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
