// Package cli is kubectl-kafkaplane's command line: convert reads Strimzi manifests from files,
// directories or stdin and writes Kafkaplane ones to stdout or a directory, with the report on
// stderr.
package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kafkaplane/kafkaplane/pkg/strimzi"
)

const usage = `Usage: kubectl kafkaplane convert -f FILE|DIR|- [-f …] [-o DIR]

Converts Strimzi manifests (kafka.strimzi.io v1alpha1, v1beta1, v1beta2, v1) into Kafkaplane
ones (kafkaplane.io/v1beta1). The converted YAML goes to stdout, or with -o to DIR (one file per
input file); every field changed, dropped or needing a decision is reported on stderr. The exit
code is non-zero only for input that cannot be read.
`

// Main runs the command and returns its exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "convert" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var files multi
	fs.Var(&files, "f", "a file, a directory (its .yaml, .yml and .json files) or - for stdin; repeatable")
	outDir := fs.String("o", "", "write the converted files to this directory instead of stdout")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if len(files) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	inputs, err := expand(files)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	code := 0
	first := true
	for _, in := range inputs {
		var data []byte
		if in == "-" {
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(in)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = 1
			continue
		}
		rep := &strimzi.Report{}
		objs, err := strimzi.Convert(data, in, rep)
		for _, n := range rep.Notes {
			fmt.Fprintln(stderr, n)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = 1
			continue
		}
		y, err := strimzi.Marshal(objs)
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = 1
			continue
		}
		if *outDir != "" {
			name := "stdin.yaml"
			if in != "-" {
				name = filepath.Base(in)
			}
			if err := os.MkdirAll(*outDir, 0o755); err == nil {
				err = os.WriteFile(filepath.Join(*outDir, name), y, 0o644)
			}
			if err != nil {
				fmt.Fprintln(stderr, err)
				code = 1
			}
			continue
		}
		if len(y) == 0 {
			continue
		}
		if !first {
			fmt.Fprintln(stdout, "---")
		}
		first = false
		stdout.Write(y)
	}
	return code
}

// expand lists the files of the inputs: directories give their YAML and JSON files, sorted.
func expand(in []string) ([]string, error) {
	var out []string
	for _, p := range in {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			ext := strings.ToLower(filepath.Ext(path))
			if !d.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
