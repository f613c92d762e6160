package chaos

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// userWant is a user's desired state in Kafka.
type userWant struct {
	tls   bool
	op    string // the operation of its ACL on its topic
	quota int64  // producer_byte_rate
}

func (w userWant) principal(name string) string {
	if w.tls {
		return "User:CN=" + name
	}
	return "User:" + name
}

// Users: n KafkaUsers (half mTLS, half SCRAM, each with an ACL and a quota) are created, a third
// then changed (ACL operation, quota), a third deleted, while the user operator is SIGKILLed 1–5
// times at points the seed picks, and restarted. Then Kafka's ACLs, quotas and SCRAM credentials
// and the user Secrets must equal the spec exactly; a deleted user's principal has nothing left
// in Kafka; a principal made with Kafka tools keeps what it had; and, the state reached, a
// resync rewrites no Secret.
func Users(ctx context.Context, env Env, ns string, seed int64, n int) (Result, error) {
	kube := env.Kube
	res := Result{Seed: seed}
	rng := rand.New(rand.NewSource(seed))
	const opPassword = "chaos-operator-password"
	kf, err := kafkafake.Start(kafkafake.Options{Brokers: 1, EnforceACLs: true, SCRAMSuperusers: map[string]string{"operator": opPassword}})
	if err != nil {
		return res, err
	}
	defer kf.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kf.ListenAddrs()...), kgo.SASL(scram.Auth{User: "operator", Pass: opPassword}.AsSha512Mechanism()))
	if err != nil {
		return res, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	// The outsider: a principal made with Kafka tools.
	if _, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: "outsider", Mechanism: kadm.ScramSha512, Iterations: 4096, Password: "outsider-pw"}}); err != nil {
		return res, err
	}
	if _, err := adm.CreateACLs(ctx, kadm.NewACLs().Allow("User:outsider").AllowHosts("*").Topics("orders").Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral)); err != nil {
		return res, err
	}
	if err := clientsCA(ctx, kube, ns); err != nil {
		return res, err
	}
	pwFile := filepath.Join(env.LogDir, "operator-password-"+ns)
	if err := os.WriteFile(pwFile, []byte(opPassword), 0o600); err != nil {
		return res, err
	}

	start := func(incarnation int, penv, extra []string) (*localcluster.Process, error) {
		port, err := localcluster.FreePort("127.0.0.1")
		if err != nil {
			return nil, err
		}
		return localcluster.StartProcess(fmt.Sprintf("chaos-user-operator-%s-%d", ns, incarnation), env.LogDir, penv, env.UserBinary,
			append([]string{"--kubeconfig=" + env.Kubeconfig, "--watch-namespaces=" + ns, "--resource-labels=kafkaplane.io/cluster=chaos",
				"--bootstrap-servers=" + kf.Bootstrap(), fmt.Sprintf("--http-address=127.0.0.1:%d", port),
				"--resync-period=5s", "--sasl-username=operator", "--sasl-password-file=" + pwFile, "--clients-ca-namespace=" + ns}, extra...)...)
	}

	desired := map[string]userWant{}
	deleted := map[string]userWant{}
	name := func(i int) string { return fmt.Sprintf("u-%04d", i) }
	total := n + 2*(n/3)
	op, faults, err := newOperator(rng, total, env, ns, "chaos-user-operator", start)
	defer op.stop()
	if err != nil {
		return res, err
	}
	res.Faults = faults
	after := op.after
	api := env.KP.KafkaplaneV1beta1().KafkaUsers(ns)
	spec := func(i int, w userWant) v1beta1.KafkaUserSpec {
		auth := v1beta1.UserAuthScramSha512
		if w.tls {
			auth = v1beta1.UserAuthTLS
		}
		return v1beta1.KafkaUserSpec{Authentication: &v1beta1.KafkaUserAuthentication{Type: auth},
			Authorization: &v1beta1.KafkaUserAuthorization{Type: "simple", ACLs: []v1beta1.ACLRule{{
				Resource: v1beta1.ACLResource{Type: v1beta1.ACLResourceTopic, Name: "t-" + strconv.Itoa(i)}, Operation: v1beta1.ACLOperation(w.op)}}},
			Quotas: &v1beta1.KafkaUserQuotas{ProducerByteRate: &w.quota}}
	}
	for i := range n {
		w := userWant{tls: i%2 == 0, op: "Write", quota: int64(1024 * (1 + rng.Intn(1000)))}
		ku := &v1beta1.KafkaUser{ObjectMeta: metav1.ObjectMeta{Name: name(i), Labels: map[string]string{v1beta1.LabelCluster: "chaos"}}, Spec: spec(i, w)}
		if _, err := api.Create(ctx, ku, metav1.CreateOptions{}); err != nil {
			return res, err
		}
		desired[name(i)] = w
		if err := after(); err != nil {
			return res, err
		}
	}
	for i := 1; i < n; i += 3 {
		w := desired[name(i)]
		w.op, w.quota = "Read", int64(1024*(1+rng.Intn(1000)))
		patch := fmt.Sprintf(`{"spec":{"authorization":{"type":"simple","acls":[{"resource":{"type":"topic","name":"t-%d"},"operation":"Read"}]},"quotas":{"producerByteRate":%d}}}`, i, w.quota)
		if _, err := api.Patch(ctx, name(i), types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return res, err
		}
		desired[name(i)] = w
		if err := after(); err != nil {
			return res, err
		}
	}
	for i := 2; i < n; i += 3 {
		if err := api.Delete(ctx, name(i), metav1.DeleteOptions{}); err != nil {
			return res, err
		}
		deleted[name(i)] = desired[name(i)]
		delete(desired, name(i))
		if err := after(); err != nil {
			return res, err
		}
	}
	if err := op.rest(); err != nil {
		return res, err
	}
	last := time.Now()
	deadline := last.Add(5 * time.Minute)
	for {
		res.Mismatches = userMismatches(ctx, env, kube, ns, cl, adm, desired, deleted)
		if os.Getenv("CHAOS_DEBUG") != "" && len(res.Mismatches) > 0 {
			fmt.Fprintf(os.Stderr, "%s: %d mismatches, first %s\n", time.Since(last).Round(time.Second), len(res.Mismatches), res.Mismatches[0])
		}
		if len(res.Mismatches) == 0 {
			res.Converged, res.Took = true, time.Since(last)
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if res.Converged {
		// The state reached, two resyncs rewrite no Secret.
		before, err := secretVersions(ctx, kube, ns)
		if err != nil {
			return res, err
		}
		time.Sleep(12 * time.Second)
		now, err := secretVersions(ctx, kube, ns)
		if err != nil {
			return res, err
		}
		for name, rv := range before {
			if now[name] != rv {
				res.Mismatches = append(res.Mismatches, "Secret "+name+" rewritten after the state was reached")
			}
		}
	}
	res.Panics, res.Takeovers = countPanics(op.logs), op.takeovers
	return res, nil
}

func clientsCA(ctx context.Context, kube kubernetes.Interface, ns string) error {
	kp, err := pki.NewCA("chaos-clients-ca", 365*24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	key, err := pki.EncodeKey(kp.Key)
	if err != nil {
		return err
	}
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: v1beta1.ClientsCACertSecretName("chaos"), Annotations: map[string]string{pki.AnnotationCertGeneration: "0", pki.AnnotationTrustedKeyGeneration: "0"}},
			Data: map[string][]byte{pki.CACertKey: pki.EncodeCerts(kp.Cert)}},
		{ObjectMeta: metav1.ObjectMeta{Name: v1beta1.ClientsCAKeySecretName("chaos"), Annotations: map[string]string{pki.AnnotationKeyGeneration: "0"}},
			Data: map[string][]byte{pki.CAKeyKey: key}},
	} {
		if _, err := kube.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func secretVersions(ctx context.Context, kube kubernetes.Interface, ns string) (map[string]string, error) {
	l, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: v1beta1.LabelKind + "=" + v1beta1.KindKafkaUser})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range l.Items {
		out[s.Name] = s.ResourceVersion
	}
	return out, nil
}

func userMismatches(ctx context.Context, env Env, kube kubernetes.Interface, ns string, cl *kgo.Client, adm *kadm.Client, desired, deleted map[string]userWant) []string {
	var out []string
	list, err := env.KP.KafkaplaneV1beta1().KafkaUsers(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return []string{"listing KafkaUsers: " + err.Error()}
	}
	seen := map[string]bool{}
	for _, ku := range list.Items {
		seen[ku.Name] = true
		if _, ok := desired[ku.Name]; !ok {
			out = append(out, "resource "+ku.Name+" still exists")
			continue
		}
		c := meta.FindStatusCondition(ku.Status.Conditions, v1beta1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != ku.Generation {
			out = append(out, "resource "+ku.Name+" not Ready for its generation")
		}
	}
	for name := range desired {
		if !seen[name] {
			out = append(out, "resource "+name+" missing")
		}
	}
	secrets, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: v1beta1.LabelKind + "=" + v1beta1.KindKafkaUser})
	if err != nil {
		return append(out, "listing Secrets: "+err.Error())
	}
	have := map[string]corev1.Secret{}
	for _, s := range secrets.Items {
		have[s.Name] = s
	}
	scrams, err := adm.DescribeUserSCRAMs(ctx)
	if err != nil {
		return append(out, "describing SCRAM credentials: "+err.Error())
	}
	acls, err := allACLs(ctx, cl)
	if err != nil {
		return append(out, "describing ACLs: "+err.Error())
	}
	quotas, err := adm.DescribeClientQuotas(ctx, false, []kadm.DescribeClientQuotaComponent{{Type: "user", MatchType: kmsg.QuotasMatchTypeAny}})
	if err != nil {
		return append(out, "describing quotas: "+err.Error())
	}
	quota := map[string]float64{}
	for _, q := range quotas {
		for _, e := range q.Entity {
			if e.Type == "user" && e.Name != nil {
				for _, v := range q.Values {
					if v.Key == "producer_byte_rate" {
						quota[*e.Name] = v.Value
					}
				}
			}
		}
	}
	for name, w := range desired {
		s, ok := have[name]
		switch {
		case !ok:
			out = append(out, "no Secret for "+name)
		case w.tls && len(s.Data["user.crt"]) == 0, !w.tls && len(s.Data["password"]) == 0:
			out = append(out, "Secret "+name+" lacks its credential")
		}
		_, hasSCRAM := scrams[name]
		if hasSCRAM == w.tls {
			out = append(out, fmt.Sprintf("%s: SCRAM credential %v, tls %v", name, hasSCRAM, w.tls))
		}
		i, _ := strconv.Atoi(name[2:])
		want := []string{fmt.Sprintf("TOPIC:t-%d:%s", i, map[string]string{"Write": "WRITE", "Read": "READ"}[w.op])}
		if got := acls[w.principal(name)]; !slices.Equal(got, want) {
			out = append(out, fmt.Sprintf("%s: ACLs %v, want %v", name, got, want))
		}
		qname := name
		if w.tls {
			qname = "CN=" + name
		}
		if quota[qname] != float64(w.quota) {
			out = append(out, fmt.Sprintf("%s: producer_byte_rate %v, want %d", name, quota[qname], w.quota))
		}
	}
	for name, w := range deleted {
		if _, ok := scrams[name]; ok {
			out = append(out, "deleted "+name+" keeps a SCRAM credential")
		}
		if len(acls[w.principal(name)]) > 0 {
			out = append(out, "deleted "+name+" keeps ACLs")
		}
		qname := name
		if w.tls {
			qname = "CN=" + name
		}
		if _, ok := quota[qname]; ok {
			out = append(out, "deleted "+name+" keeps a quota")
		}
		if _, ok := have[name]; ok {
			out = append(out, "deleted "+name+" keeps its Secret")
		}
	}
	if _, ok := scrams["outsider"]; !ok || len(acls["User:outsider"]) != 1 {
		out = append(out, "the outsider lost its credential or ACL")
	}
	slices.Sort(out)
	return out
}

// allACLs are Kafka's ACLs by principal, each "TYPE:name:OPERATION" (allow, any host, literal).
func allACLs(ctx context.Context, cl *kgo.Client) (map[string][]string, error) {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType, req.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, r := range resp.Resources {
		for _, a := range r.ACLs {
			out[a.Principal] = append(out[a.Principal], fmt.Sprintf("%s:%s:%s", r.ResourceType, r.ResourceName, a.Operation))
		}
	}
	for p := range out {
		slices.Sort(out[p])
	}
	return out, nil
}
