// Package client connects an entity operator to Kafka (TLS, mutual TLS, SASL/SCRAM) with one
// long-lived franz-go client, configured from the same flags in every binary.
package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Options say how to reach Kafka.
type Options struct {
	Bootstrap string
	// CAFile verifies the brokers (TLS when set); CertFile and KeyFile authenticate us (mTLS).
	CAFile, CertFile, KeyFile string
	// SASLUser and SASLPasswordFile authenticate with SCRAM-SHA-512.
	SASLUser, SASLPasswordFile string
}

// AddFlags registers the connection flags.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Bootstrap, "bootstrap-servers", "", "comma-separated Kafka bootstrap addresses (required)")
	fs.StringVar(&o.CAFile, "tls-ca-file", "", "PEM CA bundle that verifies the brokers; enables TLS")
	fs.StringVar(&o.CertFile, "tls-cert-file", "", "PEM client certificate for mutual TLS")
	fs.StringVar(&o.KeyFile, "tls-key-file", "", "PEM client key for mutual TLS")
	fs.StringVar(&o.SASLUser, "sasl-username", "", "SCRAM-SHA-512 user name")
	fs.StringVar(&o.SASLPasswordFile, "sasl-password-file", "", "file holding the SCRAM-SHA-512 password")
}

// RetryTimeout bounds kgo's own retries of a request.
const RetryTimeout = 15 * time.Second

// NotRetried makes kgo send requests of these keys once: a caller that must know whether its
// request took effect retries by itself instead. kgo retries a request whose connection failed
// after it was written, and a CreateTopics that Kafka carried out before its answer was lost
// then comes back TOPIC_ALREADY_EXISTS, as if another had made the topic.
func NotRetried(keys ...int16) kgo.Opt {
	return kgo.RetryTimeoutFn(func(key int16) time.Duration {
		if slices.Contains(keys, key) {
			return time.Nanosecond // past before the first retry's backoff: no retry
		}
		return RetryTimeout
	})
}

// New returns a client for o that names itself clientID, with extra options; it connects
// lazily.
func New(o Options, clientID string, extra ...kgo.Opt) (*kgo.Client, error) {
	if strings.TrimSpace(o.Bootstrap) == "" {
		return nil, errors.New("--bootstrap-servers is required")
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(o.Bootstrap, ",")...),
		kgo.ClientID(clientID),
		kgo.RequestTimeoutOverhead(10 * time.Second),
		kgo.RetryTimeout(RetryTimeout),
	}
	if o.CAFile != "" || o.CertFile != "" {
		cfg, err := tlsConfig(o)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if o.SASLUser != "" {
		pw, err := os.ReadFile(o.SASLPasswordFile)
		if err != nil {
			return nil, fmt.Errorf("reading the SASL password: %w", err)
		}
		opts = append(opts, kgo.SASL(scram.Auth{User: o.SASLUser, Pass: strings.TrimSpace(string(pw))}.AsSha512Mechanism()))
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("creating the Kafka client: %w", err)
	}
	return cl, nil
}

func tlsConfig(o Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the Kafka CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" || o.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading the client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
