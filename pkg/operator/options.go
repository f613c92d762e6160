// Package operator starts a Kafkaplane binary: flags (with KAFKAPLANE_* environment fallbacks),
// logging, Kubernetes clients, the metrics and health server, per-namespace informers, leader
// election and the controllers an operator registers. Each main only names its binary and
// registers its controllers.
package operator

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/logs"
	"github.com/kafkaplane/kafkaplane/pkg/restconfig"
)

// Options are the flags every binary has.
type Options struct {
	Binary string

	WatchNamespaces string
	ResourceLabels  string
	Kubeconfig      string
	HTTPAddress     string
	Profiling       bool
	// MetricsAuth is "none" or "kubernetes": bearer tokens checked with TokenReview and
	// SubjectAccessReview for /metrics and the profiles, over HTTPS.
	MetricsAuth string
	// HTTPCertFile and HTTPKeyFile serve HTTPS with this certificate; with MetricsAuth
	// "kubernetes" and none given, a self-signed one is made at start.
	HTTPCertFile, HTTPKeyFile string
	QPS                       float64
	Burst                     int
	Workers                   int
	ResyncPeriod              time.Duration
	// GCPercent is the Go garbage collector's target (GOGC) unless the GOGC variable is set.
	GCPercent int
	// StallTimeout is how long one reconcile may run before /healthz fails (the process is
	// wedged and its liveness probe restarts it); also how long a process that lost its lease
	// may take to exit.
	StallTimeout time.Duration

	LeaderElect    bool
	LeaseNamespace string
	LeaseName      string
	// LeaseDuration, RenewDeadline and RetryPeriod of the leader election: a standby takes a
	// dead leader's lease at most LeaseDuration (and a RetryPeriod) after its last renewal.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration

	Logs logs.Options
}

// NewOptions returns the defaults for a binary.
func NewOptions(binary string) *Options {
	return &Options{
		Binary:       binary,
		HTTPAddress:  ":8080",
		MetricsAuth:  MetricsAuthNone,
		QPS:          restconfig.DefaultQPS,
		Burst:        restconfig.DefaultBurst,
		Workers:      4,
		ResyncPeriod: 2 * time.Minute,
		GCPercent:    100,
		StallTimeout: 5 * time.Minute,
		LeaderElect:  true,
		LeaseName:    "kafkaplane-" + binary,

		LeaseDuration: 15 * time.Second,
		RenewDeadline: 10 * time.Second,
		RetryPeriod:   2 * time.Second,
	}
}

// The values of --metrics-auth.
const (
	MetricsAuthNone       = "none"
	MetricsAuthKubernetes = "kubernetes"
)

// AddFlags registers the common flags on fs.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.WatchNamespaces, "watch-namespaces", o.WatchNamespaces,
		`comma-separated namespaces to watch; empty or "*" for all`)
	fs.StringVar(&o.ResourceLabels, "resource-labels", o.ResourceLabels,
		"label selector of the Kafkaplane resources to manage, e.g. kafkaplane.io/cluster=my-cluster; all when empty")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig,
		"path to a kubeconfig; default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account")
	fs.StringVar(&o.HTTPAddress, "http-address", o.HTTPAddress, "address of the /metrics, /healthz and /readyz server")
	fs.BoolVar(&o.Profiling, "profiling", false, "serve Go pprof profiles under /debug/pprof/ on the --http-address server")
	fs.StringVar(&o.MetricsAuth, "metrics-auth", o.MetricsAuth,
		`"none", or "kubernetes": /metrics and the profiles need a bearer token whose identity may get the path (TokenReview, SubjectAccessReview), served over HTTPS`)
	fs.StringVar(&o.HTTPCertFile, "http-tls-cert-file", "", "serve --http-address over HTTPS with this certificate (PEM); self-signed when empty and --metrics-auth=kubernetes")
	fs.StringVar(&o.HTTPKeyFile, "http-tls-key-file", "", "the key of --http-tls-cert-file (PEM)")
	fs.Float64Var(&o.QPS, "kube-api-qps", o.QPS, "queries per second to the Kubernetes API")
	fs.IntVar(&o.Burst, "kube-api-burst", o.Burst, "burst of queries to the Kubernetes API")
	fs.IntVar(&o.Workers, "workers", o.Workers, "parallel reconciles per controller")
	fs.DurationVar(&o.ResyncPeriod, "resync-period", o.ResyncPeriod, "period of full reconciles that repair drift")
	fs.DurationVar(&o.StallTimeout, "stall-timeout", o.StallTimeout,
		"/healthz fails when one reconcile runs longer than this, or when the process has not exited this long after losing its lease")
	fs.IntVar(&o.GCPercent, "gc-percent", o.GCPercent,
		"heap growth, in percent of the live heap, that starts a garbage collection (GOGC); the GOGC variable wins when set")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "elect a leader with a Lease, so that one replica acts at a time")
	fs.StringVar(&o.LeaseNamespace, "leader-election-namespace", o.LeaseNamespace,
		"namespace of the Lease; default: the pod's namespace (POD_NAMESPACE or the service account's)")
	fs.StringVar(&o.LeaseName, "leader-election-id", o.LeaseName, "name of the Lease")
	fs.DurationVar(&o.LeaseDuration, "leader-election-lease-duration", o.LeaseDuration,
		"how long a standby waits, after the leader's last renewal, before it takes the lease")
	fs.DurationVar(&o.RenewDeadline, "leader-election-renew-deadline", o.RenewDeadline,
		"how long the leader retries renewing before it gives the lease up and exits")
	fs.DurationVar(&o.RetryPeriod, "leader-election-retry-period", o.RetryPeriod, "how often the lease is tried")
	o.Logs.AddFlags(fs)
}

// Namespaces returns the parsed --watch-namespaces.
func (o *Options) Namespaces() informers.Namespaces {
	return informers.ParseNamespaces(o.WatchNamespaces)
}

// Validate checks the options and fills in derived defaults.
func (o *Options) Validate() error {
	var errs []error
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("--workers must be at least 1, got %d", o.Workers))
	}
	if o.QPS <= 0 || o.Burst <= 0 {
		errs = append(errs, errors.New("--kube-api-qps and --kube-api-burst must be positive"))
	}
	if _, err := labels.Parse(o.ResourceLabels); err != nil {
		errs = append(errs, fmt.Errorf("--resource-labels: %w", err))
	}
	if o.GCPercent < 1 {
		errs = append(errs, fmt.Errorf("--gc-percent must be at least 1, got %d", o.GCPercent))
	}
	if o.ResyncPeriod < 0 {
		errs = append(errs, errors.New("--resync-period must not be negative"))
	}
	if o.MetricsAuth != MetricsAuthNone && o.MetricsAuth != MetricsAuthKubernetes {
		errs = append(errs, fmt.Errorf("--metrics-auth must be %q or %q, got %q", MetricsAuthNone, MetricsAuthKubernetes, o.MetricsAuth))
	}
	if (o.HTTPCertFile == "") != (o.HTTPKeyFile == "") {
		errs = append(errs, errors.New("--http-tls-cert-file and --http-tls-key-file go together"))
	}
	if err := o.validateLeaseTimings(); err != nil {
		errs = append(errs, err)
	}
	if o.LeaderElect && o.LeaseNamespace == "" {
		o.LeaseNamespace = podNamespace()
		if o.LeaseNamespace == "" {
			errs = append(errs, errors.New("--leader-election-namespace is needed outside a pod (or --leader-elect=false)"))
		}
	}
	if err := o.Logs.Apply(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func podNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return ""
	}
	return string(b)
}

// validateLeaseTimings checks what client-go's leader election requires of the three durations.
func (o *Options) validateLeaseTimings() error {
	if o.LeaderElect && !(o.RetryPeriod > 0 && o.RetryPeriod*6/5 < o.RenewDeadline && o.RenewDeadline < o.LeaseDuration) {
		return fmt.Errorf("leader election needs 1.2 × --leader-election-retry-period (%s) < --leader-election-renew-deadline (%s) < --leader-election-lease-duration (%s)",
			o.RetryPeriod, o.RenewDeadline, o.LeaseDuration)
	}
	return nil
}
