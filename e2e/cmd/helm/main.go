// Command helm runs the pinned Helm CLI (built from pkg/hack/helm and cached on first use) with
// its arguments: `go run ./e2e/cmd/helm -- template …`.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/kafkaplane/kafkaplane/e2e/build"
)

func main() {
	helm, err := build.Helm(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	cmd := exec.Command(helm, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
