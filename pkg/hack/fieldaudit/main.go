// Command fieldaudit lists the fields of the Kafkaplane API types that no operator code reads or
// writes, and fails when there is one: a field the schema accepts but no operator acts on is a
// silent no-op for the user (it must be implemented, dropped from the schema or refused). It
// type-checks the operators' non-test packages and their packages in this repository (export
// data from `go list -export`) and records every use of a field of package v1beta1, as a
// selector or a composite-literal key, outside generated code (deepcopy touches every field).
// A use counts whatever it does: it is a name-level check, not a proof that the field works.
//
// Usage (from the repository root): go run ./pkg/hack/fieldaudit [package patterns]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

const apiPkg = "github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"

type pkg struct {
	ImportPath, Dir, Export string
	GoFiles                 []string
	Module                  *struct{ Path string }
}

func main() {
	patterns := os.Args[1:]
	if len(patterns) == 0 {
		patterns = []string{"./cluster-operator/...", "./topic-operator/...", "./user-operator/..."}
	}
	unused, err := run(patterns, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fieldaudit:", err)
		os.Exit(2)
	}
	if unused > 0 {
		os.Exit(1)
	}
}

func run(patterns []string, out io.Writer) (int, error) {
	cmd := exec.Command("go", append([]string{"list", "-export", "-deps", "-json=ImportPath,Dir,Export,GoFiles,Module"}, patterns...)...)
	cmd.Stderr = os.Stderr
	data, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("go list: %w", err)
	}
	exports := map[string]string{}
	var ours []pkg
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			return 0, fmt.Errorf("decoding go list: %w", err)
		}
		exports[p.ImportPath] = p.Export
		if p.Module != nil && strings.HasPrefix(p.Module.Path, "github.com/kafkaplane/kafkaplane") &&
			!strings.Contains(p.ImportPath, "/generated/") && !strings.Contains(p.ImportPath, "/hack/") {
			ours = append(ours, p)
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	used := map[*types.Var]bool{}
	var api *types.Package
	for _, p := range ours {
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				return 0, err
			}
			files = append(files, f)
		}
		info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
		conf := types.Config{Importer: imp}
		tp, err := conf.Check(p.ImportPath, fset, files, info)
		if err != nil {
			return 0, fmt.Errorf("type-checking %s: %w", p.ImportPath, err)
		}
		if p.ImportPath == apiPkg {
			api = tp
		}
		generated := func(pos token.Pos) bool {
			return strings.HasPrefix(filepath.Base(fset.Position(pos).Filename), "zz_generated")
		}
		for id, obj := range info.Uses {
			if generated(id.Pos()) {
				continue
			}
			if v, ok := obj.(*types.Var); ok && v.IsField() && v.Pkg() != nil && v.Pkg().Path() == apiPkg {
				used[v.Origin()] = true
			}
		}
		for se, sel := range info.Selections {
			if generated(se.Pos()) {
				continue
			}
			if v, ok := sel.Obj().(*types.Var); ok && v.Pkg() != nil && v.Pkg().Path() == apiPkg {
				used[v.Origin()] = true
			}
		}
	}
	if api == nil {
		return 0, fmt.Errorf("%s is not among the packages", apiPkg)
	}
	// Fields are compared by file, line and name: export data and source give distinct objects.
	key := func(v *types.Var) string {
		pos := fset.Position(v.Pos())
		return fmt.Sprintf("%s:%d:%s", filepath.Base(pos.Filename), pos.Line, v.Name())
	}
	usedAt := map[string]bool{}
	for v := range used {
		usedAt[key(v)] = true
	}
	var unused []string
	scope := api.Scope()
	for _, name := range scope.Names() {
		tn, ok := scope.Lookup(name).(*types.TypeName)
		if !ok {
			continue
		}
		st, ok := tn.Type().Underlying().(*types.Struct)
		if !ok || strings.HasSuffix(name, "List") {
			continue
		}
		for i := range st.NumFields() {
			f := st.Field(i)
			if f.Embedded() || !f.Exported() {
				continue
			}
			if !usedAt[key(f)] {
				unused = append(unused, name+"."+f.Name())
			}
		}
	}
	sort.Strings(unused)
	w := bufio.NewWriter(out)
	defer w.Flush()
	for _, u := range unused {
		fmt.Fprintln(w, u)
	}
	fmt.Fprintf(w, "%d fields of %s used by no operator code\n", len(unused), apiPkg)
	return len(unused), nil
}
