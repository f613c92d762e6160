package operator

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/events"
	"github.com/kafkaplane/kafkaplane/pkg/flagenv"
	"github.com/kafkaplane/kafkaplane/pkg/httpauth"
	"github.com/kafkaplane/kafkaplane/pkg/httpserver"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/pkg/leaderelection"
	"github.com/kafkaplane/kafkaplane/pkg/metrics"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
	"github.com/kafkaplane/kafkaplane/pkg/restconfig"
	"github.com/kafkaplane/kafkaplane/pkg/signals"
	"github.com/kafkaplane/kafkaplane/pkg/version"
)

// Setup registers an operator's informers and controllers on the manager.
type Setup func(ctx context.Context, m *Manager) error

// Main is the whole main function of a binary: it parses the common flags plus those addFlags
// registers (nil for none), runs until SIGTERM or SIGINT, and exits non-zero on failure.
// defaults adjust the common options' defaults before flags are parsed.
func Main(binary string, addFlags func(fs *flag.FlagSet), setup Setup, defaults ...func(*Options)) {
	o := NewOptions(binary)
	for _, d := range defaults {
		d(o)
	}
	fs := flag.NewFlagSet(binary, flag.ContinueOnError)
	o.AddFlags(fs)
	if addFlags != nil {
		addFlags(fs)
	}
	if err := flagenv.Parse(fs, os.Args[1:], nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", binary, err)
		os.Exit(2)
	}
	ctx := signals.Context(context.Background())
	if err := Run(ctx, o, setup); err != nil {
		klog.FromContext(ctx).Error(err, "Exiting with error")
		klog.FlushAndExit(klog.ExitFlushTimeout, 1)
	}
	klog.Flush()
}

// Run starts the binary and blocks until ctx ends and everything has stopped.
func Run(ctx context.Context, o *Options, setup Setup) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("invalid options: %w", err)
	}
	logger := klog.LoggerWithName(klog.Background(), o.Binary)
	ctx = klog.NewContext(ctx, logger)
	gogc := os.Getenv("GOGC")
	if gogc == "" {
		debug.SetGCPercent(o.GCPercent)
		gogc = strconv.Itoa(o.GCPercent)
	}
	logger.Info("Starting", "version", version.Version, "watchNamespaces", o.Namespaces().String(),
		"leaderElection", o.LeaderElect, "gogc", gogc)

	cfg, err := restconfig.Load(o.Kubeconfig, float32(o.QPS), o.Burst, o.Binary+"/"+version.Version)
	if err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	m, err := NewManager(o, cfg, reg)
	if err != nil {
		return err
	}

	srv := httpserver.New(o.HTTPAddress, reg)
	srv.Profiling = o.Profiling
	if srv.TLS, err = serverTLS(o); err != nil {
		return err
	}
	if o.MetricsAuth == MetricsAuthKubernetes {
		srv.Guard = (&httpauth.Authorizer{Client: m.Kube}).Wrap
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	var synced atomic.Bool
	srv.AddReadyCheck("informers", func() error {
		if !synced.Load() {
			return errors.New("informer caches not synced yet")
		}
		return nil
	})
	var lostAt atomic.Int64 // unix nanoseconds; 0 while leading or standing by
	srv.AddHealthCheck("controllers", func() error { return m.healthy(o.StallTimeout, time.Unix(0, lostAt.Load()), time.Now()) })

	ctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ctx); err != nil {
			cancel(err)
		}
	})
	// Stop the server before waiting for it: a setup error must end the process, not leave it
	// serving "not ready" forever.
	defer func() {
		cancel(nil)
		wg.Wait()
	}()

	if m.Recorder, err = events.NewRecorder(ctx, m.Kube, o.Binary); err != nil {
		return err
	}
	if err := setup(ctx, m); err != nil {
		return fmt.Errorf("setting up %s: %w", o.Binary, err)
	}

	// Informers start before leader election, so a standby replica has warm caches and is ready
	// to take over at once; only the leader runs controllers.
	m.StartInformers(ctx)
	defer m.ShutdownInformers()
	if err := informers.WaitForSync(ctx, m.caches...); err != nil {
		return failure(ctx)
	}
	synced.Store(true)
	logger.Info("Informer caches synced")

	le := leaderelection.Config{Enabled: o.LeaderElect, Namespace: o.LeaseNamespace, Name: o.LeaseName,
		LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
		OnLost: func() { lostAt.Store(time.Now().UnixNano()) }}
	if err := leaderelection.Run(ctx, m.Kube, le, m.runControllers); err != nil {
		return err
	}
	if err := failure(ctx); err != nil {
		return err
	}
	logger.Info("Stopped")
	return nil
}

// serverTLS is the HTTP server's TLS: the given certificate, a self-signed one when metrics are
// authenticated without one (bearer tokens never go over plain HTTP), else none.
func serverTLS(o *Options) (*tls.Config, error) {
	switch {
	case o.HTTPCertFile != "":
		cert, err := tls.LoadX509KeyPair(o.HTTPCertFile, o.HTTPKeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading --http-tls-cert-file: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	case o.MetricsAuth == MetricsAuthKubernetes:
		now := time.Now()
		ca, err := pki.NewCA(o.Binary+"-http", 365*24*time.Hour, now)
		if err != nil {
			return nil, err
		}
		host, _ := os.Hostname()
		leaf, err := ca.Issue(pki.Leaf{CommonName: o.Binary, DNSNames: []string{"localhost", host}, Server: true, Validity: 365 * 24 * time.Hour}, now)
		if err != nil {
			return nil, err
		}
		return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Cert.Raw, ca.Cert.Raw}, PrivateKey: leaf.Key}},
			MinVersion: tls.VersionTLS12}, nil
	}
	return nil, nil
}

// failure is why ctx ended, or nil when it ended normally (a signal or the caller's cancel).
func failure(ctx context.Context) error {
	cause := context.Cause(ctx)
	if cause == nil || errors.Is(cause, signals.ErrSignalled) || errors.Is(cause, context.Canceled) {
		return nil
	}
	return cause
}

func wrap(what string, err error) error { return fmt.Errorf("%s: %w", what, err) }
