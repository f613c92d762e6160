// Command images builds the operators' OCI image layouts (linux/amd64 and linux/arm64) without
// Docker: `go run ./e2e/cmd/images -out build/images -version 0.1.0`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/images"
)

func main() {
	out := flag.String("out", "build/images", "directory for one OCI layout per operator")
	version := flag.String("version", "0.1.0-dev", "version stamped into the binaries and labels")
	flag.Parse()
	root, err := build.RepoRoot()
	if err == nil {
		err = images.Build(context.Background(), root, *out, *version, os.Stderr)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "images: %v\n", err)
		os.Exit(1)
	}
}
