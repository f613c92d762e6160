package bench

import (
	"context"
	"os"
	"path/filepath"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

// StartEnv starts a benchmark's control plane with simulated nodes in a fresh temporary
// directory and installs the CRDs. stop stops it and removes the directory.
func StartEnv(ctx context.Context) (e *env.Env, dir string, stop func(), err error) {
	dir, err = os.MkdirTemp("", "kafkaplane-bench-")
	if err != nil {
		return nil, "", nil, err
	}
	e, err = env.Start(ctx, env.Options{Dir: dir, Log: os.Stderr})
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, err
	}
	stop = func() {
		e.Stop()
		os.RemoveAll(dir)
	}
	root, err := build.RepoRoot()
	if err == nil {
		err = framework.NewApplier(e.Dynamic, e.Kube.Discovery()).InstallCRDs(ctx, filepath.Join(root, "deploy", "crds"))
	}
	if err != nil {
		stop()
		return nil, "", nil, err
	}
	return e, dir, stop, nil
}
