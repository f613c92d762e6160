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
input file, at its path below the -f directory it came from; an input is never written over);
every field changed, dropped or needing a decision is reported on stderr. The exit code is
non-zero only for input that cannot be read or output that cannot be written.
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
	written := map[string]string{} // output file → the input it was converted from
	for _, input := range inputs {
		in := input.path
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
			if err := writeOut(*outDir, input, inputs, written, y); err != nil {
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

// input is a file to convert and its path in the output directory: its base name, or its path
// below the directory given with -f.
type input struct{ path, out string }

// expand lists the files of the inputs: directories give their YAML and JSON files, sorted.
func expand(in []string) ([]input, error) {
	var out []input
	for _, p := range in {
		if p == "-" {
			out = append(out, input{path: p, out: "stdin.yaml"})
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, input{path: p, out: filepath.Base(p)})
			continue
		}
		var found []input
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			ext := strings.ToLower(filepath.Ext(path))
			if !d.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
				rel, err := filepath.Rel(p, path)
				if err != nil {
					return err
				}
				found = append(found, input{path: path, out: rel})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Slice(found, func(i, j int) bool { return found[i].path < found[j].path })
		out = append(out, found...)
	}
	return out, nil
}

// writeOut writes the converted y of in into dir. It never writes over an input (-o naming the
// input directory would replace the Strimzi manifests with their conversion) nor over the output
// of another input of the same run (two files of the same name from two -f).
func writeOut(dir string, in input, inputs []input, written map[string]string, y []byte) error {
	target := filepath.Join(dir, in.out)
	abs, err := filepath.Abs(target)
	if err != nil {
		return err
	}
	if prev, ok := written[abs]; ok {
		return fmt.Errorf("%s: not written to %s, which holds the conversion of %s: give the inputs different names or -o directories", in.path, target, prev)
	}
	tst, statErr := os.Stat(target)
	for _, other := range inputs {
		if other.path == "-" {
			continue
		}
		if ost, err := os.Stat(other.path); err == nil && statErr == nil && os.SameFile(ost, tst) {
			return fmt.Errorf("%s: not written to %s, which is the input %s: choose an -o directory outside the inputs", in.path, target, other.path)
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(target, y, 0o644); err != nil {
		return err
	}
	written[abs] = in.path
	return nil
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
