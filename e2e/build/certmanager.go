package build

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// CertManager returns the path of cert-manager's controller (CA and self-signed issuers), built
// from the module pinned in e2e/certmanager (outside go.work, as e2e/controlplane) when the cache
// has none for that pin.
func CertManager(log io.Writer) (string, error) {
	return pinnedTool{name: "cert-manager-controller", dir: "e2e/certmanager", pkg: ".",
		keyFiles: []string{"go.mod", "go.sum", "main.go"}, ldflags: "-s -w"}.build(log)
}

// CertManagerCRDs is the directory of the pinned cert-manager's CRDs (its deploy/crds, in the
// module cache; downloaded when missing).
func CertManagerCRDs() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/cert-manager/cert-manager")
	cmd.Dir = filepath.Join(root, "e2e", "certmanager")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd2 := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cert-manager/cert-manager")
	cmd2.Dir, cmd2.Env = cmd.Dir, cmd.Env
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("downloading cert-manager's module: %w", err)
	}
	b, err := cmd2.Output()
	if err != nil {
		return "", fmt.Errorf("locating cert-manager's module: %w", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(b)), "deploy", "crds")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("cert-manager's CRDs: %w", err)
	}
	return dir, nil
}
