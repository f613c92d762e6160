// Command kubectl-kafkaplane is a kubectl plugin: `kubectl kafkaplane convert -f FILE|DIR|-`
// converts Strimzi manifests into Kafkaplane ones (see package strimzi).
package main

import (
	"os"

	"github.com/kafkaplane/kafkaplane/pkg/strimzi/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
