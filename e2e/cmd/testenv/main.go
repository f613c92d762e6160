// Command testenv starts one test environment (control plane, simulated nodes, process pods) and
// runs a command with it, so that every integration test package of a `make test` run shares
// one control plane instead of starting its own. Usage: testenv -- go test ./e2e/...
//
// With KAFKAPLANE_E2E_EXISTING_CLUSTER=1 it starts nothing and runs the command as it is.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: testenv -- command [args...]")
		os.Exit(2)
	}
	os.Exit(run(args))
}

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	environ := os.Environ()
	if os.Getenv(framework.EnvExistingCluster) != "1" {
		dir, err := os.MkdirTemp("", "kafkaplane-testenv-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		e, err := env.Start(ctx, env.Options{Dir: dir, Log: os.Stderr})
		if err != nil {
			fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
			os.RemoveAll(dir)
			return 1
		}
		defer func() {
			e.Stop()
			if os.Getenv("KAFKAPLANE_E2E_KEEP") == "" {
				os.RemoveAll(dir)
			} else {
				fmt.Fprintf(os.Stderr, "testenv: kept %s\n", dir)
			}
		}()
		fmt.Fprintf(os.Stderr, "testenv: control plane ready (kubeconfig %s, logs %s)\n", e.Cluster.Kubeconfig, e.LogDir)
		environ = append(environ, framework.EnvKubeconfig+"="+e.Cluster.Kubeconfig, framework.EnvDir+"="+dir)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = os.Stdin, os.Stdout, os.Stderr, environ
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	default:
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		return 1
	}
}
