package integration

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
	"github.com/kafkaplane/kafkaplane/pkg/rbac"
)

// userEnv is a kfake cluster with SASL and ACL enforcement, a superuser admin client, the
// operator's password file and a clients CA in the test namespace.
type userEnv struct {
	f         *framework.Framework
	ns        string
	bootstrap string
	cl        *kgo.Client
	adm       *kadm.Client
	ca        *pki.KeyPair
	pwFile    string
	kf        *kafkafake.Cluster
}

const operatorPassword = "operator-secret-password"

func setupUsers(t *testing.T) *userEnv {
	t.Helper()
	f := framework.Get(t)
	e := &userEnv{f: f, ns: f.Namespace(t)}
	kf, err := kafkafake.Start(kafkafake.Options{Brokers: 1, EnforceACLs: true,
		SCRAMSuperusers: map[string]string{"operator": operatorPassword}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kf.Close)
	e.kf = kf
	e.bootstrap = kf.Bootstrap()
	e.cl = scramClient(t, e.bootstrap, "operator", operatorPassword)
	e.adm = kadm.NewClient(e.cl)
	e.pwFile = filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(e.pwFile, []byte(operatorPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ca = e.writeClientsCA(t, 0, 0, nil)
	return e
}

// writeClientsCA writes the clients CA Secrets as the cluster operator keeps them; kp nil
// creates a new CA.
func (e *userEnv) writeClientsCA(t *testing.T, certGen, keyGen int, kp *pki.KeyPair) *pki.KeyPair {
	t.Helper()
	return e.writeClientsCATrusting(t, certGen, keyGen, -1, kp)
}

// writeClientsCATrusting is writeClientsCA with the key generation the nodes trust (as the
// cluster operator publishes it) set on the cert Secret; -1 leaves it out.
func (e *userEnv) writeClientsCATrusting(t *testing.T, certGen, keyGen, trusted int, kp *pki.KeyPair) *pki.KeyPair {
	t.Helper()
	if kp == nil {
		var err error
		if kp, err = pki.NewCA("c-clients-ca", 365*24*time.Hour, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	keyPEM, err := pki.EncodeKey(kp.Key)
	if err != nil {
		t.Fatal(err)
	}
	// The cert Secret first, as the user operator must never see a new key without it.
	for _, s := range []struct {
		name string
		data map[string][]byte
		ann  string
		gen  int
	}{
		{v1beta1.ClientsCACertSecretName("c"), map[string][]byte{pki.CACertKey: pki.EncodeCerts(kp.Cert)}, pki.AnnotationCertGeneration, certGen},
		{v1beta1.ClientsCAKeySecretName("c"), map[string][]byte{pki.CAKeyKey: keyPEM}, pki.AnnotationKeyGeneration, keyGen},
	} {
		name := s.name
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{s.ann: fmt.Sprint(s.gen)}}, Data: s.data}
		if trusted >= 0 && s.ann == pki.AnnotationCertGeneration {
			sec.Annotations[pki.AnnotationTrustedKeyGeneration] = fmt.Sprint(trusted)
		}
		_, err := e.f.Kube.CoreV1().Secrets(e.ns).Update(context.Background(), sec, metav1.UpdateOptions{})
		if apierrors.IsNotFound(err) {
			_, err = e.f.Kube.CoreV1().Secrets(e.ns).Create(context.Background(), sec, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return kp
}

func (e *userEnv) startOperator(t *testing.T, namespaces string, extra ...string) {
	t.Helper()
	args := append([]string{"--sasl-username=operator", "--sasl-password-file=" + e.pwFile, "--clients-ca-namespace=" + e.ns}, extra...)
	startOperator(t, e.f, "user-operator", namespaces, e.bootstrap, args...)
}

func scramClient(t *testing.T, bootstrap, user, password string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(bootstrap),
		kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha512Mechanism())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produceAs produces one record to topic as a SCRAM user and returns Kafka's answer.
func produceAs(t *testing.T, bootstrap, user, password, topic string) error {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha512Mechanism()),
		kgo.DisableIdempotentWrite(), kgo.RecordRetries(1), kgo.RequestRetries(1), kgo.RetryTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("hello")}).FirstErr()
}

func kafkaUser(name string, spec v1beta1.KafkaUserSpec) *v1beta1.KafkaUser {
	return &v1beta1.KafkaUser{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1beta1.LabelCluster: "c"}}, Spec: spec}
}

func waitUser(t *testing.T, f *framework.Framework, ns, name, reason string) *v1beta1.KafkaUser {
	t.Helper()
	var ku *v1beta1.KafkaUser
	framework.Eventually(t, 30*time.Second, fmt.Sprintf("KafkaUser %s/%s to report %s", ns, name, reason), func() (bool, error) {
		var err error
		ku, err = f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(ku.Status.Conditions, v1beta1.ConditionReady)
		return c != nil && c.ObservedGeneration == ku.Generation && c.Reason == reason, fmt.Errorf("status %+v", ku.Status)
	})
	return ku
}

// aclsOf lists a principal's bindings in Kafka as "type:pattern:name op permission host".
func aclsOf(t *testing.T, cl *kgo.Client, principal string) []string {
	t.Helper()
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType, req.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	req.Principal = &principal
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range resp.Resources {
		for _, a := range r.ACLs {
			out = append(out, fmt.Sprintf("%s:%s:%s %s %s %s", r.ResourceType, r.ResourcePatternType, r.ResourceName, a.Operation, a.PermissionType, a.Host))
		}
	}
	slices.Sort(out)
	return out
}

func quotasOf(t *testing.T, adm *kadm.Client, user string) map[string]float64 {
	t.Helper()
	qs, err := adm.DescribeClientQuotas(context.Background(), true, []kadm.DescribeClientQuotaComponent{{Type: "user", MatchName: &user, MatchType: kmsg.QuotasMatchTypeExact}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, q := range qs {
		for _, v := range q.Values {
			out[v.Key] = v.Value
		}
	}
	return out
}

func hasSCRAM(t *testing.T, adm *kadm.Client, user string) bool {
	t.Helper()
	d, err := adm.DescribeUserSCRAMs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, ok := d[user]
	return ok
}

func getSecret(t *testing.T, f *framework.Framework, ns, name string) *corev1.Secret {
	t.Helper()
	s, err := f.Kube.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, what, cond)
}

// outsider is a principal the operator does not manage: its ACL, quota and SCRAM credential must
// survive everything the tests do.
func (e *userEnv) addOutsider(t *testing.T) func() {
	t.Helper()
	ctx := context.Background()
	b := kadm.NewACLs().Allow("User:outsider").AllowHosts("*").Topics("orders").Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral)
	if _, err := e.adm.CreateACLs(ctx, b); err != nil {
		t.Fatal(err)
	}
	user := "outsider"
	if _, err := e.adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{Entity: kadm.ClientQuotaEntity{{Type: "user", Name: &user}},
		Ops: []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: 7}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: user, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: "outsider-pw"}}); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if got := aclsOf(t, e.cl, "User:outsider"); len(got) != 1 {
			t.Errorf("the outsider's ACLs changed: %v", got)
		}
		if got := quotasOf(t, e.adm, user); got["producer_byte_rate"] != 7 {
			t.Errorf("the outsider's quotas changed: %v", got)
		}
		if !hasSCRAM(t, e.adm, user) {
			t.Error("the outsider's SCRAM credential is gone")
		}
	}
}

// TestUserOperatorTLSUser runs the user-operator binary against kfake and a real API server for
// a tls user: the Secret's certificate, key and PKCS#12 store; ACLs and quotas set, changed and
// repaired after drift; a deleted or edited Secret restored; re-issue on a clients CA renewal;
// deletion. A principal the operator does not manage stays untouched throughout.
func TestUserOperatorTLSUser(t *testing.T) {
	e := setupUsers(t)
	f, ns, ctx := e.f, e.ns, context.Background()
	checkOutsider := e.addOutsider(t)
	e.startOperator(t, ns)

	pr, cr := int64(1048576), int64(2097152)
	ku := kafkaUser("alice", v1beta1.KafkaUserSpec{
		Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthTLS},
		Authorization: &v1beta1.KafkaUserAuthorization{Type: "simple", ACLs: []v1beta1.ACLRule{
			{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "orders"}, Operations: []v1beta1.ACLOperation{"Read", "Describe"}},
			{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceGroup, Name: "app-", PatternType: v1beta1.ACLPatternPrefix}, Operations: []v1beta1.ACLOperation{"Read"}},
		}},
		Quotas:   &v1beta1.KafkaUserQuotas{ProducerByteRate: &pr, ConsumerByteRate: &cr},
		Template: &v1beta1.KafkaUserTemplate{Secret: &v1beta1.ResourceTemplate{Metadata: &v1beta1.MetadataTemplate{Labels: map[string]string{"team": "payments"}}}},
	})
	ku, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Create(ctx, ku, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ku = waitUser(t, f, ns, "alice", v1beta1.ReasonReady)
	if ku.Status.Username != "CN=alice" || ku.Status.Secret != "alice" || !slices.Contains(ku.Finalizers, v1beta1.FinalizerUserOperator) {
		t.Errorf("status %+v, finalizers %v", ku.Status, ku.Finalizers)
	}

	// The Secret: owned, labelled, the CA, a client certificate CN=alice it signed, the key that
	// belongs to it, and a PKCS#12 store that opens with user.password.
	s := getSecret(t, f, ns, "alice")
	if !metav1.IsControlledBy(s, ku) || s.Labels[v1beta1.LabelCluster] != "c" || s.Labels[v1beta1.LabelKind] != "KafkaUser" || s.Labels["team"] != "payments" {
		t.Errorf("Secret metadata: labels %v, owners %v", s.Labels, s.OwnerReferences)
	}
	if string(s.Data["ca.crt"]) != string(pki.EncodeCerts(e.ca.Cert)) {
		t.Error("ca.crt is not the clients CA")
	}
	certs, err := pki.DecodeCerts(s.Data["user.crt"])
	if err != nil {
		t.Fatal(err)
	}
	if certs[0].Subject.String() != "CN=alice" || !pki.SignedBy(certs[0], []*x509.Certificate{e.ca.Cert}, x509.ExtKeyUsageClientAuth, time.Now()) {
		t.Errorf("user.crt: subject %s, or not a client certificate from the clients CA", certs[0].Subject)
	}
	key, err := pki.DecodeKey(s.Data["user.key"])
	if err != nil || !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(certs[0].PublicKey) {
		t.Errorf("user.key does not belong to user.crt (%v)", err)
	}
	if _, c, _, err := pkcs12.DecodeChain(s.Data["user.p12"], string(s.Data["user.password"])); err != nil || !c.Equal(certs[0]) {
		t.Errorf("user.p12 does not open with user.password or holds another certificate: %v", err)
	}

	wantACLs := []string{"GROUP:PREFIXED:app- READ ALLOW *", "TOPIC:LITERAL:orders DESCRIBE ALLOW *", "TOPIC:LITERAL:orders READ ALLOW *"}
	eventually(t, "alice's ACLs in Kafka", func() (bool, error) {
		got := aclsOf(t, e.cl, "User:CN=alice")
		return slices.Equal(got, wantACLs), fmt.Errorf("ACLs %v", got)
	})
	if got := quotasOf(t, e.adm, "CN=alice"); !maps.Equal(got, map[string]float64{"producer_byte_rate": 1048576, "consumer_byte_rate": 2097152}) {
		t.Errorf("quotas %v", got)
	}

	// A spec change: Describe goes, Write comes; the consumer quota goes.
	ku, _ = f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Get(ctx, "alice", metav1.GetOptions{})
	ku.Spec.Authorization.ACLs[0].Operations = []v1beta1.ACLOperation{"Read", "Write"}
	ku.Spec.Quotas.ConsumerByteRate = nil
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Update(ctx, ku, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wantACLs = []string{"GROUP:PREFIXED:app- READ ALLOW *", "TOPIC:LITERAL:orders READ ALLOW *", "TOPIC:LITERAL:orders WRITE ALLOW *"}
	eventually(t, "alice's changed ACLs and quotas", func() (bool, error) {
		got, q := aclsOf(t, e.cl, "User:CN=alice"), quotasOf(t, e.adm, "CN=alice")
		return slices.Equal(got, wantACLs) && maps.Equal(q, map[string]float64{"producer_byte_rate": 1048576}), fmt.Errorf("ACLs %v quotas %v", got, q)
	})
	waitUser(t, f, ns, "alice", v1beta1.ReasonReady)

	// Drift made with Kafka tools is repaired at the next resync (2s here).
	if _, err := e.adm.DeleteACLs(ctx, kadm.NewACLs().Allow("User:CN=alice").AllowHosts("*").Topics("orders").Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted ACL restored", func() (bool, error) {
		got := aclsOf(t, e.cl, "User:CN=alice")
		return slices.Equal(got, wantACLs), fmt.Errorf("ACLs %v", got)
	})

	// A Secret deleted by hand comes back with a new certificate; one edited by hand is restored.
	if err := f.Kube.CoreV1().Secrets(ns).Delete(ctx, "alice", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var restored *corev1.Secret
	eventually(t, "the deleted Secret re-created", func() (bool, error) {
		var err error
		restored, err = f.Kube.CoreV1().Secrets(ns).Get(ctx, "alice", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, err
		}
		return err == nil && restored.UID != s.UID && len(restored.Data["user.crt"]) > 0, err
	})
	edited := restored.DeepCopy()
	edited.Data["user.crt"] = []byte("garbage")
	if _, err := f.Kube.CoreV1().Secrets(ns).Update(ctx, edited, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edited Secret restored", func() (bool, error) {
		cur := getSecret(t, f, ns, "alice")
		certs, err := pki.DecodeCerts(cur.Data["user.crt"])
		return err == nil && pki.SignedBy(certs[0], []*x509.Certificate{e.ca.Cert}, x509.ExtKeyUsageClientAuth, time.Now()), err
	})

	// The clients CA is renewed (same key, a new certificate, generation 1): the user's
	// certificate is re-issued and ca.crt follows.
	renewed, err := pki.SelfSignCA(e.ca.Key, "c-clients-ca", 365*24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.writeClientsCA(t, 1, 0, renewed)
	eventually(t, "the certificate re-issued under the renewed CA", func() (bool, error) {
		cur := getSecret(t, f, ns, "alice")
		return string(cur.Data["ca.crt"]) == string(pki.EncodeCerts(renewed.Cert)) && cur.Annotations[pki.AnnotationCertGeneration] == "1",
			fmt.Errorf("annotations %v", cur.Annotations)
	})

	// Deletion removes the ACLs and quotas; the Secret goes with its owner.
	if err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Delete(ctx, "alice", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "alice gone from Kafka and the API", func() (bool, error) {
		_, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Get(ctx, "alice", metav1.GetOptions{})
		_, serr := f.Kube.CoreV1().Secrets(ns).Get(ctx, "alice", metav1.GetOptions{})
		acls, q := aclsOf(t, e.cl, "User:CN=alice"), quotasOf(t, e.adm, "CN=alice")
		return apierrors.IsNotFound(err) && apierrors.IsNotFound(serr) && len(acls) == 0 && len(q) == 0,
			fmt.Errorf("user: %v, secret: %v, ACLs %v, quotas %v", err, serr, acls, q)
	})
	checkOutsider()
}

// TestUserOperatorSCRAMUser: a generated password that logs in and whose ACLs Kafka enforces; a
// password from a Secret that is missing (a clear condition, nothing changed), then present,
// then rotated; an edited Secret restored; a principal claimed twice; deletion.
func TestUserOperatorSCRAMUser(t *testing.T) {
	e := setupUsers(t)
	f, ns, ctx := e.f, e.ns, context.Background()
	ns2 := f.Namespace(t)
	checkOutsider := e.addOutsider(t)
	if _, err := e.adm.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.adm.CreateTopic(ctx, 1, 1, nil, "payroll"); err != nil {
		t.Fatal(err)
	}
	e.startOperator(t, ns+","+ns2)

	writeOrders := &v1beta1.KafkaUserAuthorization{Type: "simple", ACLs: []v1beta1.ACLRule{
		{Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "orders"}, Operations: []v1beta1.ACLOperation{"Write"}}}}
	scramSpec := v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthScramSha512}, Authorization: writeOrders}
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Create(ctx, kafkaUser("bob", scramSpec), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bob := waitUser(t, f, ns, "bob", v1beta1.ReasonReady)
	if bob.Status.Username != "bob" || bob.Status.Secret != "bob" {
		t.Errorf("status %+v", bob.Status)
	}
	s := getSecret(t, f, ns, "bob")
	pw := string(s.Data["password"])
	if len(pw) != 32 || !strings.Contains(string(s.Data["sasl.jaas.config"]), `username="bob" password="`+pw+`"`) {
		t.Errorf("Secret data: password %d characters, jaas %q", len(pw), s.Data["sasl.jaas.config"])
	}
	// Kafka accepts the password and enforces the ACLs (kfake authorizes SASL principals).
	if err := produceAs(t, e.bootstrap, "bob", pw, "orders"); err != nil {
		t.Errorf("bob cannot produce to orders: %v", err)
	}
	if err := produceAs(t, e.bootstrap, "bob", pw, "payroll"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("bob producing to payroll: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	if err := produceAs(t, e.bootstrap, "bob", "wrong-password", "orders"); err == nil {
		t.Error("a wrong password logs in")
	}

	// The same name in another namespace claims the same principal: the older keeps it.
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns2).Create(ctx, kafkaUser("bob", scramSpec), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUser(t, f, ns2, "bob", v1beta1.ReasonResourceConflict)
	if _, err := f.Kube.CoreV1().Secrets(ns2).Get(ctx, "bob", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the conflicting user got a Secret: %v", err)
	}

	// A password Secret that does not exist: a condition, no Secret, nothing in Kafka.
	carolSpec := v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthScramSha512,
		Password: &v1beta1.Password{ValueFrom: v1beta1.PasswordSource{SecretKeyRef: v1beta1.SecretKeySelector{Name: "carol-pw", Key: "pw"}}}},
		Authorization: writeOrders}
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Create(ctx, kafkaUser("carol", carolSpec), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	carol := waitUser(t, f, ns, "carol", v1beta1.ReasonSecretNotFound)
	if c := meta.FindStatusCondition(carol.Status.Conditions, v1beta1.ConditionReady); !strings.Contains(c.Message, "carol-pw") {
		t.Errorf("condition message %q does not name the Secret", c.Message)
	}
	if _, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, "carol", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("carol got a Secret: %v", err)
	}
	if hasSCRAM(t, e.adm, "carol") || len(aclsOf(t, e.cl, "User:carol")) != 0 {
		t.Error("carol got a credential or ACLs in Kafka")
	}
	// The Secret appears: carol logs in with its password; it changes: the new one works.
	src := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "carol-pw"}, Data: map[string][]byte{"pw": []byte("carol-first-password")}}
	if _, err := f.Kube.CoreV1().Secrets(ns).Create(ctx, src, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUser(t, f, ns, "carol", v1beta1.ReasonReady)
	if got := string(getSecret(t, f, ns, "carol").Data["password"]); got != "carol-first-password" {
		t.Errorf("carol's Secret has password %q", got)
	}
	if err := produceAs(t, e.bootstrap, "carol", "carol-first-password", "orders"); err != nil {
		t.Errorf("carol cannot produce: %v", err)
	}
	src.Data["pw"] = []byte("carol-second-password")
	if _, err := f.Kube.CoreV1().Secrets(ns).Update(ctx, src, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "carol's password rotated", func() (bool, error) {
		got := string(getSecret(t, f, ns, "carol").Data["password"])
		return got == "carol-second-password", fmt.Errorf("password %q", got)
	})
	eventually(t, "the rotated password accepted by Kafka", func() (bool, error) {
		err := produceAs(t, e.bootstrap, "carol", "carol-second-password", "orders")
		return err == nil, err
	})

	// bob's Secret edited by hand: the operator writes a new password and sets it in Kafka, so
	// the Secret and Kafka agree again.
	edited := getSecret(t, f, ns, "bob")
	edited.Data["password"] = []byte("typed-by-hand")
	if _, err := f.Kube.CoreV1().Secrets(ns).Update(ctx, edited, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	var newPW string
	eventually(t, "bob's Secret restored", func() (bool, error) {
		newPW = string(getSecret(t, f, ns, "bob").Data["password"])
		return len(newPW) == 32 && newPW != pw, fmt.Errorf("password %q", newPW)
	})
	eventually(t, "bob's restored password accepted by Kafka", func() (bool, error) {
		err := produceAs(t, e.bootstrap, "bob", newPW, "orders")
		return err == nil, err
	})

	// Deleting bob removes the credential and ACLs; the waiting user in ns2 then takes over.
	if err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Delete(ctx, "bob", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob moved to the other namespace's resource", func() (bool, error) {
		ku, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns2).Get(ctx, "bob", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(ku.Status.Conditions, v1beta1.ConditionReady)
		return c != nil && c.Reason == v1beta1.ReasonReady, fmt.Errorf("status %+v", ku.Status)
	})
	if err := produceAs(t, e.bootstrap, "bob", newPW, "orders"); err == nil {
		t.Error("the deleted user's password still logs in")
	}
	if err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns2).Delete(ctx, "bob", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob's credential and ACLs gone", func() (bool, error) {
		acls := aclsOf(t, e.cl, "User:bob")
		return !hasSCRAM(t, e.adm, "bob") && len(acls) == 0, fmt.Errorf("ACLs %v", acls)
	})

	// A user turned from scram to tls-external keeps ACLs but loses its password and Secret.
	carol, _ = f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Get(ctx, "carol", metav1.GetOptions{})
	carol.Spec.Authentication = &v1beta1.KafkaUserAuthentication{Type: v1beta1.UserAuthTLSExternal}
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Update(ctx, carol, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "carol moved to User:CN=carol", func() (bool, error) {
		_, serr := f.Kube.CoreV1().Secrets(ns).Get(ctx, "carol", metav1.GetOptions{})
		old, cur := aclsOf(t, e.cl, "User:carol"), aclsOf(t, e.cl, "User:CN=carol")
		return apierrors.IsNotFound(serr) && !hasSCRAM(t, e.adm, "carol") && len(old) == 0 && len(cur) == 1,
			fmt.Errorf("secret %v, old ACLs %v, new ACLs %v", serr, old, cur)
	})
	ku := waitUser(t, f, ns, "carol", v1beta1.ReasonReady)
	if ku.Status.Username != "CN=carol" || ku.Status.Secret != "" {
		t.Errorf("status %+v", ku.Status)
	}
	checkOutsider()
}

// TestUserOperatorRBAC runs the user operator with a ServiceAccount bound only to
// rbac.UserOperatorRules in its namespace, proving the rules are enough (users become Ready,
// leader election works), and checks with SubjectAccessReviews and a real request that those
// credentials reach no Secret outside the namespace and nothing cluster-wide.
func TestUserOperatorRBAC(t *testing.T) {
	e := setupUsers(t)
	f, ns, ctx := e.f, e.ns, context.Background()
	other := f.Namespace(t)
	if _, err := f.Kube.CoreV1().Secrets(other).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "not-yours"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const sa = "user-operator"
	if _, err := f.Kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Kube.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: sa}, Rules: rbac.UserOperatorRules()}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Kube.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: sa},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := f.Kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(f.Config)
	cfg.BearerToken, cfg.BearerTokenFile, cfg.CertData, cfg.KeyData, cfg.CertFile, cfg.KeyFile = tok.Status.Token, "", nil, nil, "", ""
	kc := filepath.Join(t.TempDir(), "sa-kubeconfig")
	writeKubeconfig(t, cfg, kc)

	e.startOperator(t, ns, "--kubeconfig="+kc, "--leader-elect=true", "--leader-election-namespace="+ns)
	for name, auth := range map[string]v1beta1.UserAuthenticationType{"tls-user": v1beta1.UserAuthTLS, "scram-user": v1beta1.UserAuthScramSha512} {
		ku := kafkaUser(name, v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: auth}})
		if _, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).Create(ctx, ku, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitUser(t, f, ns, "tls-user", v1beta1.ReasonReady)
	waitUser(t, f, ns, "scram-user", v1beta1.ReasonReady)
	if _, err := f.Kube.CoordinationV1().Leases(ns).Get(ctx, "kafkaplane-user-operator", metav1.GetOptions{}); err != nil {
		t.Errorf("no leader-election Lease: %v", err)
	}

	user := "system:serviceaccount:" + ns + ":" + sa
	can := func(ra authorizationv1.ResourceAttributes) bool {
		t.Helper()
		r, err := f.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}, ResourceAttributes: &ra}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status.Allowed
	}
	for _, verb := range []string{"get", "list", "watch", "create", "patch", "delete"} {
		if !can(authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Resource: "secrets"}) {
			t.Errorf("cannot %s Secrets in its namespace", verb)
		}
	}
	must := []authorizationv1.ResourceAttributes{
		{Namespace: ns, Verb: "patch", Group: v1beta1.GroupName, Resource: "kafkausers", Subresource: "status"},
		{Namespace: ns, Verb: "update", Group: "coordination.k8s.io", Resource: "leases"},
		{Namespace: ns, Verb: "create", Group: "events.k8s.io", Resource: "events"},
	}
	for _, ra := range must {
		if !can(ra) {
			t.Errorf("cannot %+v", ra)
		}
	}
	mustNot := []authorizationv1.ResourceAttributes{
		{Namespace: other, Verb: "get", Resource: "secrets", Name: "not-yours"},
		{Namespace: other, Verb: "list", Resource: "secrets"},
		{Verb: "list", Resource: "secrets"}, // every namespace
		{Verb: "watch", Resource: "secrets"},
		{Namespace: other, Verb: "list", Group: v1beta1.GroupName, Resource: "kafkausers"},
		{Verb: "list", Group: v1beta1.GroupName, Resource: "kafkausers"},
		{Namespace: ns, Verb: "create", Group: v1beta1.GroupName, Resource: "kafkas"},
		{Namespace: ns, Verb: "delete", Group: v1beta1.GroupName, Resource: "kafkausers"},
		{Namespace: ns, Verb: "create", Resource: "pods"},
		{Namespace: ns, Verb: "get", Resource: "configmaps"},
		{Namespace: ns, Verb: "create", Group: rbacv1.GroupName, Resource: "roles"},
		{Namespace: ns, Verb: "create", Group: rbacv1.GroupName, Resource: "rolebindings"},
		{Verb: "create", Group: rbacv1.GroupName, Resource: "clusterroles"},
		{Verb: "list", Resource: "namespaces"},
		{Verb: "list", Resource: "nodes"},
		{Verb: "create", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
	}
	for _, ra := range mustNot {
		if can(ra) {
			t.Errorf("can %s %s/%s in namespace %q: more than it needs", ra.Verb, ra.Resource, ra.Subresource, ra.Namespace)
		}
	}
	// And for real: a request with the operator's token is refused.
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Secrets(other).Get(ctx, "not-yours", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("reading a Secret of another namespace with the operator's token: %v, want Forbidden", err)
	}
}
