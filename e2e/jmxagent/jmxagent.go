// Package jmxagent fetches the Prometheus JMX exporter's Java agent from Maven Central, pinned
// and checked against a committed SHA-256, into the harness cache: the jar that the jmx-exporter
// image carries (package images) and that the harness's Kafka pods load (package kafkapods).
package jmxagent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/kafkaplane/kafkaplane/e2e/kafkadist"
)

// The pinned agent. A new version is pinned by changing both lines: the checksum is of the jar
// as Maven Central serves it, computed once and committed (a changed jar is an error).
const (
	Version = "1.0.1"
	SHA256  = "7d61f737fd661610ccc14aea79764faa1ea94a340cbc8f0029b3d2edea3d80c1"
)

// Coordinates are the agent's Maven coordinates.
const Coordinates = "io.prometheus.jmx:jmx_prometheus_javaagent:" + Version

// Ensure returns the path of the agent jar in cache (kafkadist.CacheDir() when empty), fetching
// it with mvn on first use; log receives Maven's output.
func Ensure(ctx context.Context, cache string, log io.Writer) (string, error) {
	if cache == "" {
		cache = kafkadist.CacheDir()
	}
	if log == nil {
		log = io.Discard
	}
	dir := filepath.Join(cache, "jmx-exporter", Version)
	jar := filepath.Join(dir, "jmx_prometheus_javaagent.jar")
	if err := verify(jar); err == nil {
		return jar, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return "", errors.New("jmxagent: mvn (Apache Maven) is not on PATH; it fetches the JMX exporter's agent from Maven Central")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("jmxagent: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "fetch-")
	if err != nil {
		return "", fmt.Errorf("jmxagent: %w", err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "jmxagent: fetching %s from Maven Central\n", Coordinates)
	cmd := exec.CommandContext(ctx, "mvn", "-B", "-q", "-C", "-Dstyle.color=never",
		"-Dmaven.repo.local="+filepath.Join(cache, "m2"),
		"dependency:copy", "-Dartifact="+Coordinates,
		"-DoutputDirectory="+tmp, "-Dmdep.stripVersion=true")
	cmd.Dir = tmp
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("jmxagent: mvn dependency:copy %s: %w", Coordinates, err)
	}
	fetched := filepath.Join(tmp, "jmx_prometheus_javaagent.jar")
	if err := verify(fetched); err != nil {
		return "", err
	}
	if err := os.Rename(fetched, jar); err != nil {
		return "", fmt.Errorf("jmxagent: %w", err)
	}
	return jar, nil
}

// verify checks the jar's checksum against the pinned one.
func verify(jar string) error {
	f, err := os.Open(jar)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("jmxagent: reading %s: %w", jar, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != SHA256 {
		return fmt.Errorf("jmxagent: %s has SHA-256 %s, not the pinned %s", jar, got, SHA256)
	}
	return nil
}
