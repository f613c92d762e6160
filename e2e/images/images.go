// Package images builds the operators' container images without Docker: static binaries
// cross-compiled for linux/amd64 and linux/arm64, each in a single layer with a CA bundle and a
// non-root user, assembled with go-containerregistry into one OCI image layout per operator (an
// index of both platforms); and the jmx-exporter image, the Prometheus JMX exporter's pinned
// Java agent from Maven Central with a static cp.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/kafkaplane/kafkaplane/e2e/jmxagent"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Binaries are the operators.
var Binaries = []string{"cluster-operator", "topic-operator", "user-operator"}

// Architectures built for linux.
var Architectures = []string{"amd64", "arm64"}

// UID is the images' user: nonroot, as distroless images number it.
const UID = 65532

// Source is the images' source label.
const Source = "https://github.com/kafkaplane/kafkaplane"

// JMXExporter is the image holding the Prometheus JMX exporter's Java agent at
// v1beta1.JMXExporterJar, with a static /bin/cp (pkg/cmd/copyfile) for the cluster operator's
// init container; it is the cluster operator's default --jmx-exporter-image.
const JMXExporter = v1beta1.ImageJMXExporter

// Build writes out/<name>/ as an OCI layout for each operator and for the JMX exporter image,
// built from the repository at root with version stamped in.
func Build(ctx context.Context, root, out, version string, log io.Writer) error {
	certs := caBundle()
	jar, err := jmxagent.Ensure(ctx, "", log)
	if err != nil {
		return err
	}
	agent, err := os.ReadFile(jar)
	if err != nil {
		return err
	}
	for _, name := range append(append([]string(nil), Binaries...), JMXExporter) {
		idx := v1.ImageIndex(empty.Index)
		idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
		for _, arch := range Architectures {
			var img v1.Image
			var err error
			if name == JMXExporter {
				img, err = jmxExporterImage(ctx, root, arch, version, agent, log)
			} else {
				img, err = operatorImage(ctx, root, name, arch, version, certs, log)
			}
			if err != nil {
				return err
			}
			idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
				Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
		}
		dir := filepath.Join(out, name)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if _, err := layout.Write(dir, idx); err != nil {
			return fmt.Errorf("writing the layout of %s: %w", name, err)
		}
		fmt.Fprintf(log, "%s: %s\n", name, dir)
	}
	return Plugin(ctx, root, filepath.Join(out, PluginName), version, log)
}

// PluginName is the kubectl plugin (kubectl kafkaplane convert …), released as a binary per
// platform beside the images rather than as an image: kubectl runs it from the user's PATH.
const PluginName = "kubectl-kafkaplane"

// PluginPlatforms are the operating systems and architectures the plugin is built for.
var PluginPlatforms = [][2]string{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"}}

// Plugin writes dir/kubectl-kafkaplane-<os>-<arch>[.exe] for each of PluginPlatforms, and
// dir/SHA256SUMS.
func Plugin(ctx context.Context, root, dir, version string, log io.Writer) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var sums strings.Builder
	for _, p := range PluginPlatforms {
		name := PluginName + "-" + p[0] + "-" + p[1]
		if p[0] == "windows" {
			name += ".exe"
		}
		data, err := goBuild(ctx, root, "pkg/cmd/"+PluginName, p[0], p[1], version, log)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			return err
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(data), name)
	}
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "%s: %s\n", PluginName, dir)
	return nil
}

// goBuild cross-compiles the main package pkg (relative to root) for goos/arch, statically.
func goBuild(ctx context.Context, root, pkg, goos, arch, version string, log io.Writer) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "kafkaplane-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -X github.com/kafkaplane/kafkaplane/pkg/version.Version="+version, "-o", bin, "./"+pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("building %s for %s/%s: %w", pkg, goos, arch, err)
	}
	return os.ReadFile(bin)
}

// users are the images' /etc/passwd and /etc/group entries.
func users() []file {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, UID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", UID)
	return []file{
		{name: "etc/", dir: true},
		{name: "etc/passwd", data: []byte(passwd), mode: 0o644},
		{name: "etc/group", data: []byte(group), mode: 0o644},
		{name: "tmp/", dir: true, mode: 0o1777},
	}
}

func operatorImage(ctx context.Context, root, binary, arch, version string, certs []byte, log io.Writer) (v1.Image, error) {
	exe, err := goBuild(ctx, root, binary, "linux", arch, version, log)
	if err != nil {
		return nil, err
	}
	files := append(users(),
		file{name: "etc/ssl/", dir: true},
		file{name: "etc/ssl/certs/", dir: true},
		file{name: "etc/ssl/certs/ca-certificates.crt", data: certs, mode: 0o644},
		file{name: "usr/", dir: true},
		file{name: "usr/local/", dir: true},
		file{name: "usr/local/bin/", dir: true},
		file{name: "usr/local/bin/" + binary, data: exe, mode: 0o755},
	)
	return assemble(arch, files, []string{"/usr/local/bin/" + binary}, []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		map[string]string{
			"org.opencontainers.image.title":       "kafkaplane " + binary,
			"org.opencontainers.image.version":     version,
			"org.opencontainers.image.source":      Source,
			"org.opencontainers.image.description": "Kafkaplane " + binary,
		})
}

func jmxExporterImage(ctx context.Context, root, arch, version string, agent []byte, log io.Writer) (v1.Image, error) {
	cp, err := goBuild(ctx, root, "pkg/cmd/copyfile", "linux", arch, version, log)
	if err != nil {
		return nil, err
	}
	jar := strings.TrimPrefix(v1beta1.JMXExporterJar, "/")
	files := append(users(), file{name: "bin/", dir: true}, file{name: "bin/cp", data: cp, mode: 0o755})
	var dirs []string
	for d := path.Dir(jar); d != "."; d = path.Dir(d) {
		dirs = append([]string{d + "/"}, dirs...)
	}
	for _, d := range dirs {
		files = append(files, file{name: d, dir: true})
	}
	files = append(files, file{name: jar, data: agent, mode: 0o644})
	return assemble(arch, files, []string{"/bin/cp"}, nil, map[string]string{
		"org.opencontainers.image.title":       "kafkaplane jmx-exporter",
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.source":      Source,
		"org.opencontainers.image.description": "The Prometheus JMX exporter's Java agent " + jmxagent.Version + " (" + jmxagent.Coordinates + ", SHA-256 " + jmxagent.SHA256 + "), for Kafkaplane's Kafka nodes",
		"io.kafkaplane.jmx-exporter.version":   jmxagent.Version,
	})
}

// assemble makes a one-layer image of files for linux/arch, run as the nonroot user.
func assemble(arch string, files []file, entrypoint, env []string, labels map[string]string) (v1.Image, error) {
	data, err := tarOf(files)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()} // reproducible
	cf.Config.User = fmt.Sprintf("%d:%d", UID, UID)
	cf.Config.Entrypoint = entrypoint
	cf.Config.WorkingDir = "/"
	cf.Config.Env = env
	cf.Config.Labels = labels
	return mutate.ConfigFile(img, cf)
}

type file struct {
	name string
	data []byte
	mode int64
	dir  bool
}

func tarOf(files []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: time.Unix(0, 0), Uname: "root", Gname: "root"}
		if f.dir {
			h.Typeflag = tar.TypeDir
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if !f.dir {
			if _, err := tw.Write(f.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// caBundle is Mozilla's NSS root store (the source Debian's ca-certificates packages too), from
// golang.org/x/crypto/x509roots, as PEM. Roots with extra constraints X.509 cannot express are
// left out, as a PEM bundle cannot carry them.
func caBundle() []byte {
	var b bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})
	}
	return b.Bytes()
}
