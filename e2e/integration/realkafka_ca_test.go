package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// clusterCATrust is every CA certificate the cluster CA's cert Secret holds now: ca.crt and,
// during a key replacement, the superseded ca-<date>.crt. A client that reloads the Secret
// trusts this.
func clusterCATrust(ctx context.Context, f *framework.Framework, ns, cluster string, onlyCurrent bool) (*x509.CertPool, map[string][]byte, error) {
	s, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, v1beta1.ClusterCACertSecretName(cluster), metav1.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	for k, v := range s.Data {
		if k == pki.CACertKey || !onlyCurrent && strings.HasPrefix(k, "ca-") && strings.HasSuffix(k, ".crt") {
			pool.AppendCertsFromPEM(v)
		}
	}
	return pool, s.Data, nil
}

// tlsClient is a client of the cluster's TLS listener trusting pool, with the user's certificate.
func tlsClient(f *framework.Framework, bootstrap string, pool *x509.CertPool, cert tls.Certificate, opts ...kgo.Opt) (*kgo.Client, error) {
	dial := func(ctx context.Context, network, host string) (net.Conn, error) {
		name, _, _ := strings.Cut(host, ":")
		cfg := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, ServerName: name}
		return (&tls.Dialer{NetDialer: f.Dialer(), Config: cfg}).DialContext(ctx, network, host)
	}
	return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(bootstrap), kgo.Dialer(dial)}, opts...)...)
}

// clusterCAKeyReplaced: kafkaplane.io/force-replace on the cluster CA's key Secret replaces the
// key on the running cluster. A client that connects anew every half second, trusting what the
// CA's cert Secret holds at that moment, produces with acks=all throughout: no connection or
// send fails while the nodes move to certificates of the new key (a connection a restarting
// broker closes at once is sent again, as Kafka's own client would). At the end the old CA
// certificate is gone from the Secret and a client trusting the new one alone reaches every
// broker.
func clusterCAKeyReplaced(t *testing.T, f *framework.Framework, ns string) {
	ctx := t.Context()
	cert := userCertOf(t, f, ns, "app")
	bootstrap := "c-kafka-bootstrap." + ns + ".svc:9093"
	keyGen := func() (int, bool) {
		s, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, v1beta1.ClusterCAKeySecretName("c"), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, asked := s.Annotations[v1beta1.AnnotationForceReplace]
		return pki.ParseGeneration(s.Annotations, pki.AnnotationKeyGeneration), asked
	}
	before, _ := keyGen()
	_, oldTrust, err := clusterCATrust(ctx, f, ns, "c", true)
	if err != nil {
		t.Fatal(err)
	}
	oldCA := oldTrust[pki.CACertKey]

	var sent, failed, closedByBroker atomic.Int64
	var first atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			sent.Add(1)
			send := func() error {
				pool, _, err := clusterCATrust(ctx, f, ns, "c", false)
				if err != nil {
					return err
				}
				cl, err := tlsClient(f, bootstrap, pool, cert, kgo.DefaultProduceTopic("rolling"),
					kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(2*time.Minute))
				if err != nil {
					return err
				}
				defer cl.Close()
				return cl.ProduceSync(context.Background(), kgo.StringRecord(fmt.Sprintf("ca-%d", i))).FirstErr()
			}
			err := send()
			// A broker in the middle of its restart accepts a connection and closes it at once
			// (its socket server stops, or has not started serving): franz-go gives up on such a
			// connection at once (ErrFirstReadEOF: it guesses a TLS or SASL mistake), where Kafka's
			// Java client retries. The send is tried again once, with the Secret read again; a
			// certificate the client does not trust fails at the handshake with an x509 error,
			// which is never retried.
			if _, closed := errors.AsType[*kgo.ErrFirstReadEOF](err); closed {
				closedByBroker.Add(1)
				time.Sleep(time.Second)
				err = send()
			}
			if err != nil {
				failed.Add(1)
				first.CompareAndSwap(nil, err.Error())
			}
		}
	})

	defer func() {
		if t.Failed() {
			dumpCAState(t, f, ns, "c")
		}
	}()
	start := time.Now()
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"true"}}}`, v1beta1.AnnotationForceReplace)
	if _, err := f.Kube.CoreV1().Secrets(ns).Patch(ctx, v1beta1.ClusterCAKeySecretName("c"), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	// Two rolls of six JVMs: 3 to 7 minutes on 2 free cores; more than 12 in a loaded CI run.
	framework.Eventually(t, 20*time.Minute, "the cluster CA key replaced, and the old CA certificate dropped", func() (bool, error) {
		gen, asked := keyGen()
		if gen != before+1 || asked {
			return false, fmt.Errorf("key generation %d (was %d), request still there: %v", gen, before, asked)
		}
		_, data, err := clusterCATrust(ctx, f, ns, "c", true)
		if err != nil {
			return false, err
		}
		// The key Secret is written first: until the cert Secret follows, it holds the old
		// certificate alone, which is not the end.
		if string(data[pki.CACertKey]) == string(oldCA) {
			return false, fmt.Errorf("key generation %d, but the cert Secret still has the old CA certificate as %s", gen, pki.CACertKey)
		}
		for k := range data {
			if strings.HasPrefix(k, "ca-") && strings.HasSuffix(k, ".crt") {
				return false, fmt.Errorf("the old CA certificate %s is still trusted", k)
			}
		}
		return kafkaReady(t, f, ns, "c")()
	})
	took := time.Since(start).Round(time.Second)
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Errorf("%d of %d reconnecting sends failed during the key replacement (first: %v)", failed.Load(), sent.Load(), first.Load())
	}
	// A connection closed at once could also be a broker refusing the client's certificate (with
	// TLS 1.3 the client learns it at its first read): the brokers' logs say which.
	if closedByBroker.Load() > 0 {
		for _, refused := range brokerAuthFailures(t, f, ns, start) {
			t.Errorf("a broker refused a client during the key replacement: %s", refused)
		}
	}
	t.Logf("cluster CA key replaced and the old certificate dropped in %s; %d reconnecting sends, %d failed, %d connections closed at once by a broker (sent again)",
		took, sent.Load(), failed.Load(), closedByBroker.Load())
	if sent.Load() < 20 {
		t.Errorf("only %d sends during the replacement", sent.Load())
	}

	// Only the new CA certificate now: every partition's leader is reached and written to.
	pool, _, err := clusterCATrust(ctx, f, ns, "c", true)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := tlsClient(f, bootstrap, pool, cert, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for p := range int32(3) {
		r := &kgo.Record{Topic: "rolling", Partition: p, Value: []byte("new-ca")}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("producing to rolling-%d trusting only the new CA: %v", p, err)
		}
	}
}

// brokerAuthFailures are the nodes' log lines, from since on, of clients they refused at the
// TLS handshake (Kafka's SocketServer logs "Failed authentication with …").
func brokerAuthFailures(t *testing.T, f *framework.Framework, ns string, since time.Time) []string {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(f.Dir, "logs", ns+"_c-*.log"))
	var out []string
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(line, "Failed authentication with") {
				continue
			}
			// Kafka's log4j2 layout starts with [yyyy-MM-dd HH:mm:ss,SSS], in the JVM's zone.
			if len(line) > 24 && line[0] == '[' {
				if at, err := time.ParseInLocation("2006-01-02 15:04:05,000", line[1:24], time.Local); err == nil && at.Before(since.Add(-time.Second)) {
					continue
				}
			}
			out = append(out, filepath.Base(l)+": "+line)
		}
	}
	if len(logs) == 0 {
		t.Logf("no node logs under %s to check for refused clients", filepath.Join(f.Dir, "logs"))
	}
	return out
}

// dumpCAState logs what decides the end of a key replacement: the Kafka's conditions, every
// node pod's readiness and revision, and who signed each node's certificate.
func dumpCAState(t *testing.T, f *framework.Framework, ns, cluster string) {
	ctx := context.Background()
	if k, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Get(ctx, cluster, metav1.GetOptions{}); err == nil {
		for _, c := range k.Status.Conditions {
			t.Logf("kafka condition %s=%s (gen %d of %d) %s: %s", c.Type, c.Status, c.ObservedGeneration, k.Generation, c.Reason, c.Message)
		}
	}
	pods, err := f.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: v1beta1.LabelCluster + "=" + cluster})
	if err == nil {
		for _, p := range pods.Items {
			t.Logf("pod %s ready=%v phase=%s annotations=%v", p.Name, podReady(&p), p.Status.Phase, p.Annotations)
		}
	}
	secrets, err := f.Kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, s := range secrets.Items {
			keys := make([]string, 0, len(s.Data))
			for k := range s.Data {
				keys = append(keys, k)
			}
			issuer := ""
			for _, k := range keys {
				if strings.HasSuffix(k, ".crt") && k != pki.CACertKey {
					if certs, err := pki.DecodeCerts(s.Data[k]); err == nil && len(certs) > 0 {
						issuer += fmt.Sprintf(" %s<-%s(%x)", k, certs[0].Issuer.CommonName, certs[0].AuthorityKeyId)
					}
				}
			}
			t.Logf("secret %s annotations=%v keys=%v%s", s.Name, s.Annotations, keys, issuer)
		}
	}
}
