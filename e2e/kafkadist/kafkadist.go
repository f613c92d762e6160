// Package kafkadist lays out an Apache Kafka distribution the way the apache/kafka image does
// (/opt/kafka/libs, /opt/kafka/bin/*.sh, /opt/kafka/config), from Kafka's jars on Maven Central:
// Maven resolves a pinned list of artifacts per version and verifies their checksums (-C), the
// jars land in a cache under KAFKAPLANE_CACHE, and the bin scripts are our own, written to behave
// like the image's for what our pods call (kafka-server-start.sh, kafka-storage.sh,
// kafka-run-class.sh and the variables they read). Nothing is installed by hand: the first use
// fetches, later uses find the cache.
package kafkadist

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// DefaultVersion is the cluster operator's default Kafka version; Newest the newest supported.
const (
	DefaultVersion = "4.1.1"
	Newest         = "4.4.0"
)

// Supported lists the versions with a pinned artifact list.
func Supported() []string {
	entries, _ := pinned.ReadDir("pinned")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".txt"))
	}
	slices.Sort(out)
	return out
}

//go:embed pinned/*.txt
var pinned embed.FS

//go:embed scripts/*.sh config/*
var files embed.FS

// layoutVersion marks a laid-out distribution: bump it when scripts/ or config/ change, and
// cached distributions get the new ones without fetching the jars again.
const layoutVersion = "2: console consumer and producer"

// Options say which distribution and where.
type Options struct {
	Version string
	// Cache is the cache directory ($KAFKAPLANE_CACHE, else ~/.cache/kafkaplane).
	Cache string
	// Log receives Maven's output on the first fetch; discarded when nil.
	Log io.Writer
}

// Dist is a laid-out distribution.
type Dist struct {
	Version string
	// Home is the directory that plays /opt/kafka: bin, libs, config.
	Home string
}

// CacheDir is KAFKAPLANE_CACHE, else ~/.cache/kafkaplane.
func CacheDir() string {
	if d := os.Getenv("KAFKAPLANE_CACHE"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "kafkaplane")
}

// Ensure returns the distribution of o.Version, fetching and laying it out on first use. It
// needs java (17 or newer) and mvn on PATH and says so clearly when they are missing.
func Ensure(ctx context.Context, o Options) (*Dist, error) {
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.Cache == "" {
		o.Cache = CacheDir()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	list, err := pinned.ReadFile("pinned/" + o.Version + ".txt")
	if err != nil {
		return nil, fmt.Errorf("kafkadist: Kafka %s is not supported (supported: %s)", o.Version, strings.Join(Supported(), ", "))
	}
	want := artifacts(list)
	home := filepath.Join(o.Cache, "kafka", o.Version, "opt", "kafka")
	if marker, err := os.ReadFile(filepath.Join(home, ".complete")); err == nil {
		if string(marker) != layoutVersion {
			// The jars are there; our scripts and configuration changed: lay them out again.
			if err := layOut(home, o.Version); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(home, ".complete"), []byte(layoutVersion), 0o644); err != nil {
				return nil, err
			}
		}
		return &Dist{Version: o.Version, Home: home}, nil
	}
	if err := CheckJava(ctx); err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return nil, errors.New("kafkadist: mvn (Apache Maven) is not on PATH; it fetches Kafka's jars from Maven Central (Debian: apt-get install maven)")
	}
	tmp, err := os.MkdirTemp(filepath.Join(o.Cache), "kafka-"+o.Version+"-")
	if err != nil {
		if err := os.MkdirAll(o.Cache, 0o755); err != nil {
			return nil, err
		}
		if tmp, err = os.MkdirTemp(o.Cache, "kafka-"+o.Version+"-"); err != nil {
			return nil, err
		}
	}
	defer os.RemoveAll(tmp)
	libs := filepath.Join(tmp, "opt", "kafka", "libs")
	if err := os.MkdirAll(libs, 0o755); err != nil {
		return nil, err
	}
	if err := fetch(ctx, o, want, tmp, libs); err != nil {
		return nil, err
	}
	if err := checkLibs(libs, want); err != nil {
		return nil, fmt.Errorf("kafkadist: Kafka %s: %w", o.Version, err)
	}
	if err := layOut(filepath.Join(tmp, "opt", "kafka"), o.Version); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "opt", "kafka", ".complete"), []byte(layoutVersion), 0o644); err != nil {
		return nil, err
	}
	final := filepath.Join(o.Cache, "kafka", o.Version)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, err
	}
	_ = os.RemoveAll(final) // an incomplete earlier attempt
	if err := os.Rename(tmp, final); err != nil {
		return nil, err
	}
	_ = os.Remove(filepath.Join(final, "pom.xml"))
	return &Dist{Version: o.Version, Home: home}, nil
}

// fetch has Maven copy the artifacts' jars, with their dependencies, into libs (its local
// repository is in the cache, so a second version or a re-layout downloads nothing again).
func fetch(ctx context.Context, o Options, as []artifact, work, libs string) error {
	pom := filepath.Join(work, "pom.xml")
	if err := os.WriteFile(pom, POM(o.Version, as), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.Log, "kafkadist: fetching Kafka %s's jars from Maven Central (checksums verified)\n", o.Version)
	cmd := exec.CommandContext(ctx, "mvn", "-B", "-q", "-C", "-Dstyle.color=never", "-f", pom,
		"-Dmaven.repo.local="+filepath.Join(o.Cache, "m2"),
		"dependency:copy-dependencies", "-DoutputDirectory="+libs, "-Dmdep.includeScope=runtime")
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kafkadist: mvn dependency:copy-dependencies for Kafka %s: %w", o.Version, err)
	}
	return nil
}

// Pin resolves a version's direct dependencies afresh and returns the pinned list to commit as
// pinned/<version>.txt: how a new Kafka version is added.
func Pin(ctx context.Context, o Options, direct []string) ([]byte, error) {
	if o.Cache == "" {
		o.Cache = CacheDir()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	work, err := os.MkdirTemp("", "kafkadist-pin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	var as []artifact
	for _, d := range direct {
		as = append(as, artifact{direct: true, coord: d})
	}
	libs := filepath.Join(work, "libs")
	if err := fetch(ctx, o, as, work, libs); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(libs)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Kafka %s from Maven Central: the direct dependencies, then every jar Maven must resolve (regenerate: go run ./e2e/cmd/kafkadist -version %s -pin).\n", o.Version, o.Version)
	for _, d := range direct {
		fmt.Fprintf(&b, "dependency %s\n", d)
	}
	for _, e := range entries {
		fmt.Fprintln(&b, e.Name())
	}
	return b.Bytes(), nil
}

// DirectDependencies are what a version's pinned list starts from.
func DirectDependencies(version string) []string {
	return []string{"org.apache.kafka:kafka_2.13:" + version, "org.apache.kafka:kafka-tools:" + version, "org.apache.kafka:kafka-storage:" + version,
		"org.apache.logging.log4j:log4j-core:2.24.3", "org.apache.logging.log4j:log4j-slf4j-impl:2.24.3"}
}

// artifact is one line of a pinned list: the direct dependencies (group:artifact:version) that
// go into the POM, and the jar file names Maven must then produce, exactly.
type artifact struct {
	direct bool
	coord  string // group:artifact:version for direct ones, the jar's file name otherwise
}

func artifacts(list []byte) []artifact {
	var out []artifact
	for _, line := range strings.Split(string(list), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "", strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "dependency "):
			out = append(out, artifact{direct: true, coord: strings.TrimPrefix(line, "dependency ")})
		default:
			out = append(out, artifact{coord: line})
		}
	}
	return out
}

// POM is the Maven project that resolves a version's direct dependencies.
func POM(version string, as []artifact) []byte {
	var b bytes.Buffer
	b.WriteString(`<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.kafkaplane</groupId><artifactId>kafkadist</artifactId><version>` + version + `</version>
  <packaging>pom</packaging>
  <dependencies>
`)
	for _, a := range as {
		if !a.direct {
			continue
		}
		p := strings.Split(a.coord, ":")
		fmt.Fprintf(&b, "    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></dependency>\n", p[0], p[1], p[2])
	}
	b.WriteString("  </dependencies>\n</project>\n")
	return b.Bytes()
}

// checkLibs makes sure Maven produced exactly the pinned jars: a changed resolution is an error,
// not a silently different Kafka.
func checkLibs(libs string, want []artifact) error {
	entries, err := os.ReadDir(libs)
	if err != nil {
		return err
	}
	var got, exp []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	for _, a := range want {
		if !a.direct {
			exp = append(exp, a.coord)
		}
	}
	slices.Sort(got)
	slices.Sort(exp)
	if !slices.Equal(got, exp) {
		var missing, extra []string
		for _, n := range exp {
			if !slices.Contains(got, n) {
				missing = append(missing, n)
			}
		}
		for _, n := range got {
			if !slices.Contains(exp, n) {
				extra = append(extra, n)
			}
		}
		return fmt.Errorf("the resolved jars differ from the pinned list: missing %v, unexpected %v", missing, extra)
	}
	return nil
}

// layOut writes bin/ and config/ into home.
func layOut(home, version string) error {
	for _, dir := range []string{"bin", "config"} {
		if err := os.MkdirAll(filepath.Join(home, dir), 0o755); err != nil {
			return err
		}
	}
	scripts, _ := files.ReadDir("scripts")
	for _, e := range scripts {
		b, _ := files.ReadFile("scripts/" + e.Name())
		t, err := template.New(e.Name()).Parse(string(b))
		if err != nil {
			return fmt.Errorf("kafkadist: %s: %w", e.Name(), err)
		}
		var out bytes.Buffer
		if err := t.Execute(&out, map[string]string{"Version": version}); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(home, "bin", e.Name()), out.Bytes(), 0o755); err != nil {
			return err
		}
	}
	configs, _ := files.ReadDir("config")
	for _, e := range configs {
		b, _ := files.ReadFile("config/" + e.Name())
		if err := os.WriteFile(filepath.Join(home, "config", e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var javaVersion = regexp.MustCompile(`version "(\d+)`)

// CheckJava makes sure a Java 17 or newer is on PATH (Kafka 4 brokers need it).
func CheckJava(ctx context.Context) error {
	java, err := exec.LookPath("java")
	if err != nil {
		return errors.New("kafkadist: java is not on PATH; Kafka 4 needs Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)")
	}
	out, err := exec.CommandContext(ctx, java, "-version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("kafkadist: %s -version: %w", java, err)
	}
	m := javaVersion.FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("kafkadist: cannot read the Java version from %q", out)
	}
	if n, _ := strconv.Atoi(string(m[1])); n < 17 {
		return fmt.Errorf("kafkadist: %s is Java %d; Kafka 4 needs 17 or newer", java, n)
	}
	return nil
}
