package images

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// MaxUncompressed is the size budget of one image for one architecture.
const MaxUncompressed = 40 << 20

// TestImages builds the three operator images and the jmx-exporter image for both architectures and inspects the layouts:
// platforms, entrypoint, non-root user, labels, the binary and CA bundle in the file system,
// and the uncompressed size.
func TestImages(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles six binaries")
	}
	root, err := build.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := Build(context.Background(), root, out, "9.9.9-test", io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, b := range append(append([]string(nil), Binaries...), JMXExporter) {
		p, err := layout.FromPath(filepath.Join(out, b))
		if err != nil {
			t.Fatal(err)
		}
		idx, err := p.ImageIndex()
		if err != nil {
			t.Fatal(err)
		}
		// The layout's index.json is the multi-platform index.
		inner := idx
		im, err := inner.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		var archs []string
		for _, d := range im.Manifests {
			archs = append(archs, d.Platform.Architecture)
			img, err := inner.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			entrypoint := []string{"/usr/local/bin/" + b}
			if b == JMXExporter {
				entrypoint = []string{"/bin/cp"}
			}
			if cf.Config.User != "65532:65532" || !slices.Equal(cf.Config.Entrypoint, entrypoint) ||
				cf.Config.Labels["org.opencontainers.image.version"] != "9.9.9-test" || cf.Architecture != d.Platform.Architecture {
				t.Errorf("%s/%s config: user %q entrypoint %v labels %v arch %s", b, d.Platform.Architecture, cf.Config.User, cf.Config.Entrypoint, cf.Config.Labels, cf.Architecture)
			}
			size, files := int64(0), map[string]int64{}
			rc := mutate.Extract(img)
			tr := tarReader(rc)
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				size += h.Size
				files[h.Name] = h.Size
			}
			rc.Close()
			switch {
			case b == JMXExporter:
				// The agent as pinned (jmxagent checked its SHA-256 when it fetched it) and the cp
				// the cluster operator's init container runs.
				if files[strings.TrimPrefix(v1beta1.JMXExporterJar, "/")] < 1<<20 || files["bin/cp"] == 0 || files["etc/passwd"] == 0 {
					t.Errorf("%s/%s files: %v", b, d.Platform.Architecture, files)
				}
			case files["usr/local/bin/"+b] == 0 || files["etc/ssl/certs/ca-certificates.crt"] < 100_000 || files["etc/passwd"] == 0:
				t.Errorf("%s/%s files: %v", b, d.Platform.Architecture, files)
			}
			if size > MaxUncompressed {
				t.Errorf("%s/%s is %d MiB uncompressed, over %d MiB", b, d.Platform.Architecture, size>>20, MaxUncompressed>>20)
			}
			t.Logf("%s/%s: %.1f MiB uncompressed", b, d.Platform.Architecture, float64(size)/(1<<20))
		}
		slices.Sort(archs)
		if !slices.Equal(archs, []string{"amd64", "arm64"}) {
			t.Errorf("%s platforms %v", b, archs)
		}
	}
	// The kubectl plugin: one binary per platform, each listed with its checksum.
	sums, err := os.ReadFile(filepath.Join(out, PluginName, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range PluginPlatforms {
		name := PluginName + "-" + p[0] + "-" + p[1]
		if p[0] == "windows" {
			name += ".exe"
		}
		data, err := os.ReadFile(filepath.Join(out, PluginName, name))
		if err != nil || len(data) < 1<<20 {
			t.Errorf("%s: %d bytes, %v", name, len(data), err)
			continue
		}
		if !strings.Contains(string(sums), fmt.Sprintf("%x  %s\n", sha256.Sum256(data), name)) {
			t.Errorf("SHA256SUMS lacks %s:\n%s", name, sums)
		}
	}
}
