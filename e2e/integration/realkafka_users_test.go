package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkadist"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// TestUserOperatorOnRealKafka runs the user-operator binary against real Apache Kafka with a
// SCRAM-SHA-512 listener and the StandardAuthorizer: a SCRAM KafkaUser's password logs in and its
// ACL lets it produce where Kafka itself enforces ACLs; without the ACL it is refused
// (TOPIC_AUTHORIZATION_FAILED); its quota is what DescribeClientQuotas reports; a principal made
// with Kafka tools is not taken over, and its ACL and password survive; a deleted user has
// nothing left in Kafka.
func TestUserOperatorOnRealKafka(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	ctx := context.Background()
	const opPassword = "operator-password-for-real-kafka"
	n, adm := startRealKafka(t, kafkadist.NodeOptions{BrokerProtocol: "SASL_PLAINTEXT",
		Config: []string{
			"sasl.enabled.mechanisms=SCRAM-SHA-512",
			"sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
			`listener.name.broker.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="operator" password="` + opPassword + `";`,
			"authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
			"super.users=User:operator;User:ANONYMOUS", // ANONYMOUS: the controller listener
		},
		FormatArgs: []string{"--add-scram", "SCRAM-SHA-512=[name=operator,password=" + opPassword + "]"},
	}, kgo.SASL(scram.Auth{User: "operator", Pass: opPassword}.AsSha512Mechanism()))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	// An outsider made with Kafka tools.
	if _, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: "outsider", Mechanism: kadm.ScramSha512, Iterations: 4096, Password: "outsider-pw"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateACLs(ctx, kadm.NewACLs().Allow("User:outsider").AllowHosts("*").Topics("orders").Operations(kadm.OpWrite, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral)); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(opPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	startOperator(t, f, "user-operator", ns, n.Bootstrap, "--sasl-username=operator", "--sasl-password-file="+pwFile, "--clients-ca-namespace="+ns)

	users := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns)
	spec := v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthScramSha512},
		Authorization: &v1beta1.KafkaUserAuthorization{Type: "simple", ACLs: []v1beta1.ACLRule{
			{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "orders"}, Operations: []v1beta1.ACLOperation{"Write", "Describe"}}}},
		Quotas: &v1beta1.KafkaUserQuotas{ProducerByteRate: ptr.To[int64](1048576)}}
	if _, err := users.Create(ctx, kafkaUser("bob", spec), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Create(ctx, kafkaUser("outsider", v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthScramSha512}}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUser(t, f, ns, "bob", v1beta1.ReasonReady)
	waitUser(t, f, ns, "outsider", v1beta1.ReasonResourceConflict)
	pw := string(getSecret(t, f, ns, "bob").Data["password"])
	framework.Eventually(t, 30*time.Second, "bob to produce to orders", func() (bool, error) {
		err := produceAs(t, n.Bootstrap, "bob", pw, "orders")
		return err == nil, err
	})
	if q := quotasOf(t, adm, "bob"); q["producer_byte_rate"] != 1048576 {
		t.Errorf("bob's quotas in Kafka: %v", q)
	}
	if err := produceAs(t, n.Bootstrap, "outsider", "outsider-pw", "orders"); err != nil {
		t.Errorf("the outsider lost its access: %v", err)
	}

	// A lower quota in the spec reaches Kafka, and Kafka throttles bob's producer to it.
	if _, err := users.Patch(ctx, "bob", types.MergePatchType, []byte(`{"spec":{"quotas":{"producerByteRate":65536}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "bob's new quota in Kafka", func() (bool, error) {
		q := quotasOf(t, adm, "bob")
		return q["producer_byte_rate"] == 65536, fmt.Errorf("quotas %v", q)
	})
	// Kafka throttles bob's producer to it: Kafka's own Java producer, 1 MiB in 8 KiB records,
	// averages near the quota (unthrottled it sends several MB/s here). (franz-go's producer
	// was never throttled by the same quota on this broker — no throttle time in any response;
	// not understood yet, so the Java client measures.)
	mbs := javaProducerThroughput(t, n.Bootstrap, "bob", pw, "orders", 128, 8192)
	if mbs > 0.15 {
		t.Errorf("bob produced at %.2f MB/s under a 64 KiB/s quota: not throttled", mbs)
	}
	t.Logf("bob's Java producer under a 64 KiB/s producer_byte_rate: %.3f MB/s", mbs)

	// The ACL leaves the spec: Kafka refuses bob again.
	if _, err := users.Patch(ctx, "bob", types.MergePatchType, []byte(`{"spec":{"authorization":{"acls":[]}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "bob refused", func() (bool, error) {
		err := produceAs(t, n.Bootstrap, "bob", pw, "orders")
		return errors.Is(err, kerr.TopicAuthorizationFailed), err
	})

	// Deleted: no credential, no ACL, no quota left.
	for _, name := range []string{"bob", "outsider"} {
		if err := users.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitUserGone(t, f, ns, name)
	}
	if hasSCRAM(t, adm, "bob") || len(quotasOf(t, adm, "bob")) != 0 {
		t.Error("the deleted user's credential or quota is left in Kafka")
	}
	if !hasSCRAM(t, adm, "outsider") {
		t.Error("the refused resource's deletion removed the outsider's credential")
	}
	if err := produceAs(t, n.Bootstrap, "outsider", "outsider-pw", "orders"); err != nil {
		t.Errorf("the outsider lost its access: %v", err)
	}
}

// TestUserOperatorMTLSOnRealKafka: on real Apache Kafka with a mutual-TLS listener that trusts
// the clients CA, a tls KafkaUser's certificate (issued by the user operator) authenticates as
// User:CN=<name> and its ACL is enforced by Kafka; a tls user without ACLs is refused. (kfake sees
// every mTLS client as User:ANONYMOUS, so this could not be shown before.)
func TestUserOperatorMTLSOnRealKafka(t *testing.T) {
	e := setupUsers(t) // for the clients CA Secrets in the namespace; its kfake is not used
	f, ns, ctx := e.f, e.ns, context.Background()
	dir := t.TempDir()
	now := time.Now()
	serverCA, err := pki.NewCA("test-cluster-ca", 24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	node, err := serverCA.Issue(pki.Leaf{CommonName: "node", IPs: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		Server: true, Client: true, Validity: 24 * time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	operator, err := e.ca.Issue(pki.Leaf{CommonName: "operator", Client: true, Validity: 24 * time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, parts ...[]byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Join(parts, nil), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyPEM := func(kp *pki.KeyPair) []byte {
		b, err := pki.EncodeKey(kp.Key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	nodePEM := write("node.pem", keyPEM(node), pki.EncodeCerts(node.Cert, serverCA.Cert))
	// The broker trusts both CAs: its own (for itself) and the clients CA.
	trust := write("trust.crt", pki.EncodeCerts(serverCA.Cert, e.ca.Cert))
	serverCAFile := write("server-ca.crt", pki.EncodeCerts(serverCA.Cert))
	opCert, opKey := write("op.crt", pki.EncodeCerts(operator.Cert)), write("op.key", keyPEM(operator))

	cert, err := tls.X509KeyPair(pki.EncodeCerts(operator.Cert), keyPEM(operator))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(serverCA.Cert)
	n, adm := startRealKafka(t, kafkadist.NodeOptions{BrokerProtocol: "SSL",
		Config: []string{
			"ssl.keystore.type=PEM", "ssl.keystore.location=" + nodePEM,
			"ssl.truststore.type=PEM", "ssl.truststore.location=" + trust,
			"ssl.client.auth=required",
			"authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
			"super.users=User:CN=node;User:CN=operator;User:ANONYMOUS",
		},
	}, kgo.DialTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots}))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	startOperator(t, f, "user-operator", ns, n.Bootstrap, "--tls-ca-file="+serverCAFile, "--tls-cert-file="+opCert, "--tls-key-file="+opKey,
		"--clients-ca-namespace="+ns)
	users := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns)
	tlsAuth := &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthTLS}
	if _, err := users.Create(ctx, kafkaUser("alice", v1beta1.KafkaUserSpec{Authentication: tlsAuth,
		Authorization: &v1beta1.KafkaUserAuthorization{Type: "simple", ACLs: []v1beta1.ACLRule{
			{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "orders"}, Operations: []v1beta1.ACLOperation{"Write", "Describe"}}}}}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Create(ctx, kafkaUser("mallory", v1beta1.KafkaUserSpec{Authentication: tlsAuth}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUser(t, f, ns, "alice", v1beta1.ReasonReady)
	waitUser(t, f, ns, "mallory", v1beta1.ReasonReady)
	produceWith := func(user string) error {
		t.Helper()
		s := getSecret(t, f, ns, user)
		c, err := tls.X509KeyPair(s.Data["user.crt"], s.Data["user.key"])
		if err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.Bootstrap), kgo.DialTLSConfig(&tls.Config{Certificates: []tls.Certificate{c}, RootCAs: roots}),
			kgo.DisableIdempotentWrite(), kgo.RecordRetries(1), kgo.RequestRetries(1), kgo.RetryTimeout(3*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return cl.ProduceSync(pctx, &kgo.Record{Topic: "orders", Value: []byte("hi")}).FirstErr()
	}
	framework.Eventually(t, 30*time.Second, "alice to produce over mTLS", func() (bool, error) {
		err := produceWith("alice")
		return err == nil, err
	})
	if err := produceWith("mallory"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("mallory (no ACLs) producing: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
}

// javaProducerThroughput runs Kafka's ProducerPerformance as a SCRAM-SHA-512 user and returns
// the MB/s it reports for the whole run.
func javaProducerThroughput(t *testing.T, bootstrap, user, password, topic string, records, size int) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, err := kafkadist.Ensure(ctx, kafkadist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	props := filepath.Join(t.TempDir(), "producer.properties")
	conf := fmt.Sprintf("bootstrap.servers=%s\nacks=all\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"+
		"sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"%s\" password=\"%s\";\n", bootstrap, user, password)
	if err := os.WriteFile(props, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(d.Home, "bin", "kafka-run-class.sh"), "org.apache.kafka.tools.ProducerPerformance",
		"--topic", topic, "--num-records", strconv.Itoa(records), "--record-size", strconv.Itoa(size), "--throughput", "-1",
		"--producer.config", props)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ProducerPerformance: %v\n%s", err, out)
	}
	// The last line: "N records sent, R records/sec (M MB/sec), …".
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	_, rest, ok := strings.Cut(last, "(")
	mb, _, ok2 := strings.Cut(rest, " MB/sec")
	v, err := strconv.ParseFloat(strings.TrimSpace(mb), 64)
	if !ok || !ok2 || err != nil {
		t.Fatalf("ProducerPerformance's summary: %q", last)
	}
	return v
}
