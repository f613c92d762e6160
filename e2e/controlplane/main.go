// Command controlplane is one multi-call binary holding etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler, built from the Go module proxy so tests need no
// Docker and no downloaded release binaries. Linking once instead of four times saves minutes on
// a cold 2-core build. It lives in its own module, outside go.work, so that k8s.io/kubernetes and
// its replace directives never enter the operators' build list.
//
// Usage: controlplane etcd|kube-apiserver|kube-controller-manager|kube-scheduler [flags...]
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: controlplane etcd|kube-apiserver|kube-controller-manager|kube-scheduler [flags...]")
		os.Exit(2)
	}
	component, args := os.Args[1], os.Args[2:]
	var cmd *cobra.Command
	switch component {
	case "etcd":
		etcdmain.Main(append([]string{"etcd"}, args...))
		return
	case "kube-apiserver":
		cmd = apiserver.NewAPIServerCommand()
	case "kube-controller-manager":
		cmd = controllermanager.NewControllerManagerCommand()
	case "kube-scheduler":
		cmd = scheduler.NewSchedulerCommand()
	default:
		fmt.Fprintf(os.Stderr, "controlplane: unknown component %q\n", component)
		os.Exit(2)
	}
	os.Args = append([]string{component}, args...)
	cmd.SetArgs(args)
	os.Exit(cli.Run(cmd))
}
