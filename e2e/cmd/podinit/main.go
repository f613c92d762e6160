// Command podinit sets up one container of a harness pod and executes its command (package
// podinit). The kubelet starts it in new mount and UTS namespaces with the spec's path.
package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/kafkaplane/kafkaplane/e2e/podinit"
)

func init() { runtime.LockOSThread() }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: podinit SPEC.json")
		os.Exit(2)
	}
	s, err := podinit.Read(os.Args[1])
	if err == nil {
		err = podinit.Exec(s)
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(127)
}
