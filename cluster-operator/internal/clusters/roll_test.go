package clusters

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// readyCluster is a cluster of one controller (ID 0... by assignment) and two brokers, all Ready.
func readyCluster(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, testKafka(), testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 2, v1beta1.RoleBroker))
	e.reconcile(t)
	e.markReady(t)
	e.reconcile(t)
	if n := len(e.pods(t)); n != 3 {
		t.Fatalf("%d pods", n)
	}
	return e
}

func (e *env) setConfig(t *testing.T, key, value string) {
	t.Helper()
	patch := []byte(`{"spec":{"kafka":{"config":{"` + key + `":"` + value + `"}}}}`)
	if _, err := e.kp.KafkaplaneV1beta1().Kafkas(ns).Patch(context.Background(), "c", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
}

// nodeNames are a pool's node names from its status.
func (e *env) nodeNames(t *testing.T, pool string) []string {
	t.Helper()
	p, err := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Get(context.Background(), pool, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, id := range p.Status.NodeIDs {
		out = append(out, v1beta1.NodeName("c", pool, id))
	}
	return out
}

func TestConfigChangeRollsOneReadyNodeOnlyWhenKafkaAllows(t *testing.T) {
	e := readyCluster(t)
	e.setConfig(t, "log.retention.hours", "100")
	e.reconcile(t)
	// Kafka says no: nothing restarts, and the condition says why.
	if n := len(e.pods(t)); n != 3 {
		t.Fatalf("a pod was deleted although Kafka refused: %d pods", n)
	}
	if len(e.checker.asked) == 0 {
		t.Fatal("the checker was not asked")
	}
	c := findReady(e.kafka(t))
	if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "may not restart yet") {
		t.Fatalf("condition: %+v", c)
	}
	// Kafka says yes: exactly one node restarts, the controller first.
	e.checker.restart = true
	e.reconcile(t)
	pods := e.pods(t)
	if len(pods) != 2 {
		t.Fatalf("%d pods after one restart, want 2", len(pods))
	}
	if _, ok := pods[e.nodeNames(t, "controllers")[0]]; ok {
		t.Errorf("a broker restarted before the controller: %v", keys(pods))
	}
	// The next reconcile recreates it; nothing else restarts while it is not ready.
	e.reconcile(t)
	e.reconcile(t)
	if n := len(e.pods(t)); n != 3 {
		t.Fatalf("%d pods, want the restarted one back and no other gone", n)
	}
}

// TestBlockedNodeDoesNotHoldUpTheOthers: a broker Kafka will not let go now does not hold up
// the other brokers.
func TestBlockedNodeDoesNotHoldUpTheOthers(t *testing.T) {
	e := readyCluster(t)
	e.setConfig(t, "log.retention.hours", "100")
	brokers := e.nodeNames(t, "brokers")
	pool, _ := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Get(context.Background(), "brokers", metav1.GetOptions{})
	e.checker.restart = true
	// The controller goes first.
	e.reconcile(t)
	for range 3 {
		e.reconcile(t)
		e.markReady(t)
	}
	e.checker.deny = map[int32]string{pool.Status.NodeIDs[0]: "t-0 would have 1 in-sync replicas"}
	e.reconcile(t)
	pods := e.pods(t)
	if _, ok := pods[brokers[0]]; !ok {
		t.Fatalf("the refused broker was restarted: %v", keys(pods))
	}
	if _, ok := pods[brokers[1]]; ok {
		t.Fatalf("the other broker was held up by the refused one: %v", keys(pods))
	}
}

// TestBlockedControllerHoldsUpTheBrokers: while a controller waits to restart, no broker
// restarts — every controller restarts before any broker. Before, a broker went while the last
// controller waited (seen on real Kafka: the quorum was still catching up after the previous
// controller's restart).
func TestBlockedControllerHoldsUpTheBrokers(t *testing.T) {
	e := readyCluster(t)
	e.setConfig(t, "log.retention.hours", "100")
	controller := e.nodeNames(t, "controllers")[0]
	pool, _ := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Get(context.Background(), "controllers", metav1.GetOptions{})
	e.checker.restart = true
	e.checker.deny = map[int32]string{pool.Status.NodeIDs[0]: "the quorum would lose its caught-up majority"}
	e.reconcile(t)
	pods := e.pods(t)
	if _, ok := pods[controller]; !ok || len(pods) != 3 {
		t.Fatalf("want every pod kept while the controller waits: %v", keys(pods))
	}
	if c := findReady(e.kafka(t)); c == nil || !strings.Contains(c.Message, "waits until the controllers have restarted") {
		t.Fatalf("condition: %+v", c)
	}
	e.checker.deny = nil
	e.reconcile(t)
	if _, ok := e.pods(t)[controller]; ok {
		t.Fatal("the controller did not restart once Kafka allowed it")
	}
}

func TestNotReadyStaleNodeRestartsWithoutAskingKafka(t *testing.T) {
	e := readyCluster(t)
	e.setConfig(t, "log.retention.hours", "100")
	broker := e.nodeNames(t, "brokers")[1]
	p := e.pods(t)[broker]
	p.Status.Conditions = nil
	if _, err := e.kube.CoreV1().Pods(ns).UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t)
	if _, ok := e.pods(t)[broker]; ok {
		t.Fatal("the not-ready stale broker was not restarted")
	}
	if len(e.checker.asked) != 0 {
		t.Errorf("Kafka was asked about a not-ready node: %v", e.checker.asked)
	}
}

func TestManualRollingUpdateOfAPool(t *testing.T) {
	e := readyCluster(t)
	patch := []byte(`{"metadata":{"annotations":{"` + v1beta1.AnnotationManualRollingUpdate + `":"true"}}}`)
	if _, err := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Patch(context.Background(), "brokers", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	e.checker.restart = true
	e.reconcile(t)
	pool, err := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Get(context.Background(), "brokers", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pool.Annotations[v1beta1.AnnotationManualRollingUpdate]; ok {
		t.Error("the pool keeps its manual-rolling-update annotation")
	}
	marked := func() int {
		n := 0
		for _, p := range e.pods(t) {
			if p.Annotations[v1beta1.AnnotationManualRollingUpdate] == "true" {
				n++
			}
		}
		return n
	}
	// Both brokers carry the request; then they restart one by one.
	if n := marked(); n != 2 {
		t.Fatalf("%d pods marked, want the 2 brokers", n)
	}
	e.reconcile(t)
	if n, pods := marked(), e.pods(t); n != 1 || len(pods) != 2 {
		t.Fatalf("after one restart: %d marked, pods %v", n, keys(pods))
	}
}

func TestScaleDownWaitsForKafka(t *testing.T) {
	e := readyCluster(t)
	patch := []byte(`{"spec":{"replicas":1}}`)
	if _, err := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Patch(context.Background(), "brokers", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	gone := e.nodeNames(t, "brokers")[1]
	goneID, _ := podNodeID("c", "brokers", gone)
	reg := &fakeRegistrations{}
	e.rec.Registrations = reg
	e.checker.why = "broker still hosts a replica of t-0"
	e.reconcile(t)
	if len(reg.unregistered) != 0 {
		t.Fatalf("unregistered %v while the broker runs", reg.unregistered)
	}
	if ids := e.kafka(t).Status.RegisteredNodeIDs; !slices.Contains(ids, goneID) {
		t.Fatalf("registered node IDs %v lack %d", ids, goneID)
	}
	if _, ok := e.pods(t)[gone]; !ok {
		t.Fatal("the broker was removed although Kafka refused")
	}
	if c := findReady(e.kafka(t)); c == nil || !strings.Contains(c.Message, "still hosts a replica") {
		t.Fatalf("condition: %+v", c)
	}
	e.checker.remove = true
	e.reconcile(t)
	if _, ok := e.pods(t)[gone]; ok {
		t.Fatal("the broker was not removed")
	}
	for _, get := range []func() error{
		func() error {
			_, err := e.kube.CoreV1().ConfigMaps(ns).Get(context.Background(), gone, metav1.GetOptions{})
			return err
		},
		func() error {
			_, err := e.kube.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), "data-"+gone, metav1.GetOptions{})
			return err
		},
	} {
		if err := get(); err == nil {
			t.Error("an object of the removed node remains")
		}
	}
	// Once its pod is gone, the removed node leaves Kafka's metadata: its registration would
	// keep metadata.version from being raised.
	e.reconcile(t)
	if !slices.Equal(reg.unregistered, []int32{goneID}) {
		t.Fatalf("unregistered %v, want %d", reg.unregistered, goneID)
	}
	if ids := e.kafka(t).Status.RegisteredNodeIDs; slices.Contains(ids, goneID) || len(ids) != len(e.pods(t)) {
		t.Fatalf("registered node IDs %v after %d was unregistered (%d pods)", ids, goneID, len(e.pods(t)))
	}
	e.reconcile(t)
	if len(reg.unregistered) != 1 {
		t.Fatalf("unregistered again: %v", reg.unregistered)
	}
}

// TestRemovedNodeWithReplicasStaysRegistered: a node that left the pools but still hosts
// replicas in Kafka (a stale read, or a removal this operator did not make) is not unregistered.
func TestRemovedNodeWithReplicasStaysRegistered(t *testing.T) {
	e := readyCluster(t)
	reg := &fakeRegistrations{}
	e.rec.Registrations = reg
	e.reconcile(t)
	// The status remembers a node that no pool has and no pod runs.
	k := e.kafka(t)
	k.Status.RegisteredNodeIDs = append(k.Status.RegisteredNodeIDs, 77)
	if _, err := e.kp.KafkaplaneV1beta1().Kafkas(ns).UpdateStatus(context.Background(), k, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	e.checker.remove, e.checker.why = false, "broker 77 still hosts a replica of t-0"
	e.reconcile(t)
	if len(reg.unregistered) != 0 || !slices.Contains(e.kafka(t).Status.RegisteredNodeIDs, 77) {
		t.Fatalf("unregistered %v, registered %v", reg.unregistered, e.kafka(t).Status.RegisteredNodeIDs)
	}
	e.checker.remove = true
	e.reconcile(t)
	if !slices.Equal(reg.unregistered, []int32{77}) {
		t.Fatalf("unregistered %v", reg.unregistered)
	}
}

type fakeRegistrations struct{ unregistered []int32 }

func (f *fakeRegistrations) Unregister(_ context.Context, _ *v1beta1.Kafka, id int32) (bool, error) {
	f.unregistered = append(f.unregistered, id)
	return false, nil
}

func TestInvalidSpecChangesNothing(t *testing.T) {
	k := testKafka()
	k.Spec.Kafka.Config = map[string]v1beta1.ConfigValue{"ssl.client.auth": v1beta1.ConfigValue("none")}
	e := newEnv(t, k, testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	if n := len(e.pods(t)); n != 0 {
		t.Fatalf("%d pods for an invalid Kafka", n)
	}
	c := findReady(e.kafka(t))
	if c == nil || c.Reason != v1beta1.ReasonInvalidSpec || !strings.Contains(c.Message, "spec.kafka.config.ssl.client.auth is set by the operator") ||
		!strings.Contains(c.Message, "no KafkaNodePool with replicas has the controller role") {
		t.Fatalf("condition: %+v", c)
	}
	pool, _ := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Get(context.Background(), "brokers", metav1.GetOptions{})
	if pc := findPoolReady(pool); pc == nil || pc.Reason != v1beta1.ReasonInvalidSpec {
		t.Errorf("pool condition: %+v", pc)
	}
}

// An owned key that does not touch security is left out with a Warning condition and an Event,
// as Strimzi does, and the rest of the Kafka goes ahead (it used to refuse the whole Kafka).
func TestOwnedConfigKeyIgnoredWithWarning(t *testing.T) {
	k := testKafka()
	k.Spec.Kafka.Config = map[string]v1beta1.ConfigValue{"listeners": "PLAINTEXT://:9092", "broker.rack": "a", "log.retention.ms": "1000"}
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	if n := len(e.pods(t)); n != 2 {
		t.Fatalf("%d pods, want 2: the Kafka must go ahead", n)
	}
	cm, err := e.kube.CoreV1().ConfigMaps(ns).Get(context.Background(), v1beta1.NodeName("c", "brokers", 0), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var props string
	for _, v := range cm.Data {
		props += v
	}
	if strings.Contains(props, "PLAINTEXT://:9092") || strings.Contains(props, "broker.rack=a") || !strings.Contains(props, "log.retention.ms=1000") {
		t.Errorf("node configuration:\n%s", props)
	}
	w := conditions.Find(e.kafka(t).Status.Conditions, v1beta1.ConditionWarning)
	if w == nil || w.Status != metav1.ConditionTrue || w.Reason != v1beta1.ReasonIgnoredConfig || !strings.Contains(w.Message, "broker.rack, listeners") {
		t.Fatalf("warning condition %+v", w)
	}
	var event bool
	for len(e.rec.Recorder.(*events.FakeRecorder).Events) > 0 {
		event = event || strings.Contains(<-e.rec.Recorder.(*events.FakeRecorder).Events, v1beta1.ReasonIgnoredConfig)
	}
	if !event {
		t.Error("no IgnoredConfig event")
	}
	// Once the keys are gone, so is the warning.
	k = e.kafka(t)
	k.Spec.Kafka.Config = map[string]v1beta1.ConfigValue{"log.retention.ms": "1000"}
	if _, err := e.kp.KafkaplaneV1beta1().Kafkas(ns).Update(context.Background(), k, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	e.reconcile(t)
	if w := conditions.Find(e.kafka(t).Status.Conditions, v1beta1.ConditionWarning); w != nil {
		t.Errorf("warning left after the keys were removed: %+v", w)
	}
}

func TestPoolOfMissingKafka(t *testing.T) {
	e := newEnv(t, testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	pool, _ := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Get(context.Background(), "brokers", metav1.GetOptions{})
	if pc := findPoolReady(pool); pc == nil || pc.Reason != v1beta1.ReasonInvalidSpec || !strings.Contains(pc.Message, "no Kafka named c") {
		t.Errorf("pool condition: %+v", pc)
	}
}

func findPoolReady(p *v1beta1.KafkaNodePool) *metav1.Condition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == v1beta1.ConditionReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestClusterCAKeyReplacement: a cluster CA due for renewal with replace-key gets a new key; the
// nodes first roll to trust both CAs (keeping their old certificates), then roll onto
// certificates from the new key, and only then is the old CA certificate dropped from trust.
func TestClusterCAKeyReplacement(t *testing.T) {
	k := testKafka()
	k.Spec.EntityOperator = nil // no Deployment controller here to make entity operators available
	k.Spec.ClusterCa = &v1beta1.CertificateAuthority{ValidityDays: 10, RenewalDays: 5, CertificateExpirationPolicy: v1beta1.ReplaceKey}
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 2, v1beta1.RoleBroker))
	e.reconcile(t)
	e.markReady(t)
	e.reconcile(t)
	if c := findReady(e.kafka(t)); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("not ready before the replacement: %+v", c)
	}
	oldCA := e.secretData(t, "c-cluster-ca-cert")["ca.crt"]
	later := time.Now().Add(6 * 24 * time.Hour)
	e.rec.Opts.Now = func() time.Time { return later }
	e.checker.restart = true

	sawBoth, sawNewCertWithBoth := false, false
	for i := 0; i < 40; i++ {
		e.reconcile(t)
		e.markReady(t)
		caSecret := e.secretData(t, "c-cluster-ca-cert")
		trust := string(e.secretData(t, e.nodeNames(t, "brokers")[0])["cluster-ca.crt"])
		both := strings.Count(trust, "BEGIN CERTIFICATE") == 2
		sawBoth = sawBoth || both
		if both {
			// While both are trusted, a node's certificate is from the new key only once every
			// node trusts the new CA.
			for _, name := range append(e.nodeNames(t, "brokers"), e.nodeNames(t, "controllers")...) {
				if pod := e.pods(t)[name]; pod != nil && pod.Annotations["kafkaplane.io/cluster-ca-key-generation"] == "0" {
					for _, other := range append(e.nodeNames(t, "brokers"), e.nodeNames(t, "controllers")...) {
						if signedBy(t, e.secretData(t, other)["node.crt"], caSecret["ca.crt"]) {
							t.Fatalf("node %s has a new-key certificate while %s does not trust the new CA", other, name)
						}
					}
				}
			}
			if signedBy(t, e.secretData(t, e.nodeNames(t, "brokers")[0])["node.crt"], caSecret["ca.crt"]) {
				sawNewCertWithBoth = true
			}
		}
		if sawBoth && !both && len(caSecret) == 3 { // ca.crt, ca.p12, ca.password: trimmed
			if string(caSecret["ca.crt"]) == string(oldCA) {
				t.Fatal("the CA key was not replaced")
			}
			if !sawNewCertWithBoth {
				t.Fatal("trust was trimmed before the nodes moved to the new key")
			}
			return
		}
	}
	t.Fatal("the key replacement did not finish in 40 reconciles")
}

func (e *env) secretData(t *testing.T, name string) map[string][]byte {
	t.Helper()
	s, err := e.kube.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s.Data
}

func signedBy(t *testing.T, leafPEM, caPEM []byte) bool {
	t.Helper()
	leaf, err := pki.DecodeCerts(leafPEM)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.DecodeCerts(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pki.SignedBy(leaf[0], ca[:1], x509.ExtKeyUsageServerAuth, time.Now().Add(6*24*time.Hour))
}

type fakeDynamic struct {
	applied []map[string]v1beta1.ConfigValue
}

func (f *fakeDynamic) Apply(_ context.Context, _ *v1beta1.Kafka, want map[string]v1beta1.ConfigValue) ([]string, error) {
	f.applied = append(f.applied, want)
	return nil, nil
}

// TestDynamicConfigChangeDoesNotRoll: a cluster-wide dynamic key goes to Kafka at runtime and
// into the nodes' configuration for their next start, without a restart.
func TestDynamicConfigChangeDoesNotRoll(t *testing.T) {
	e := readyCluster(t)
	dyn := &fakeDynamic{}
	e.rec.Dynamic = dyn
	e.checker.restart = true
	e.setConfig(t, "log.retention.ms", "3600000")
	e.reconcile(t)
	if n := len(e.pods(t)); n != 3 {
		t.Fatalf("a dynamic config change restarted a node: %d pods", n)
	}
	last := dyn.applied[len(dyn.applied)-1]
	if last["log.retention.ms"] != "3600000" {
		t.Fatalf("applied %v", last)
	}
	cm, err := e.kube.CoreV1().ConfigMaps(ns).Get(context.Background(), e.nodeNames(t, "brokers")[0], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cm.Data["server.properties"], "log.retention.ms=3600000") {
		t.Error("the node configuration lacks the new value for its next start")
	}
	if c := findReady(e.kafka(t)); c == nil || strings.Contains(c.Message, "restart") {
		t.Errorf("condition: %+v", c)
	}
}

type fakeRaiser struct {
	calls     []int
	setTo     []int16
	finalized int16
}

func (f *fakeRaiser) Raise(context.Context, *v1beta1.Kafka) (int16, int16, error) {
	f.calls = append(f.calls, 1)
	return 21, 27, nil
}

func (f *fakeRaiser) SetTo(_ context.Context, _ *v1beta1.Kafka, level int16) (int16, int16, error) {
	f.setTo = append(f.setTo, level)
	if level < f.finalized {
		return f.finalized, f.finalized, fmt.Errorf("the operator does not lower it")
	}
	from := f.finalized
	f.finalized = level
	return from, level, nil
}

// TestMetadataVersionOnRunningCluster: spec.kafka.metadataVersion on a running cluster sets
// Kafka's metadata.version to that level, and the status reports what Kafka finalized; a lower
// level is refused with the reason in the Ready condition, and the status keeps the real level.
// (Before, the spec's value had no effect and the status echoed it.)
func TestMetadataVersionOnRunningCluster(t *testing.T) {
	e := readyCluster(t)
	raiser := &fakeRaiser{finalized: 27}
	e.rec.Features = raiser
	e.reconcile(t)
	if v := e.kafka(t).Status.KafkaMetadataVersion; v != "4.1-IV1" {
		t.Fatalf("status metadata.version %q, want Kafka's 4.1-IV1", v)
	}
	set := func(mv string) {
		t.Helper()
		patch := fmt.Appendf(nil, `{"spec":{"kafka":{"metadataVersion":%q}}}`, mv)
		if _, err := e.kp.KafkaplaneV1beta1().Kafkas(ns).Patch(context.Background(), "c", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	set("4.2-IV1")
	e.checker.restart = true
	for range 10 {
		e.reconcile(t)
		e.markReady(t)
	}
	if !slices.Contains(raiser.setTo, 29) || raiser.finalized != 29 {
		t.Fatalf("set to %v, finalized %d: want 29 (4.2-IV1)", raiser.setTo, raiser.finalized)
	}
	if v := e.kafka(t).Status.KafkaMetadataVersion; v != "4.2-IV1" {
		t.Fatalf("status metadata.version %q", v)
	}
	set("4.0-IV0")
	for range 5 {
		e.reconcile(t)
		e.markReady(t)
	}
	if raiser.finalized != 29 {
		t.Fatalf("metadata.version lowered to %d", raiser.finalized)
	}
	k := e.kafka(t)
	if c := findReady(k); c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "does not lower") {
		t.Fatalf("condition: %+v", c)
	}
	if k.Status.KafkaMetadataVersion != "4.2-IV1" {
		t.Fatalf("status metadata.version %q, want Kafka's 4.2-IV1", k.Status.KafkaMetadataVersion)
	}
	set("9.9-IV9")
	e.reconcile(t)
	if c := findReady(e.kafka(t)); c == nil || !strings.Contains(c.Message, "not a metadata.version this operator knows") {
		t.Fatalf("condition: %+v", c)
	}
}

// TestVersionUpgradeRollsThenRaisesMetadataVersion: a new version rolls every node onto the new
// image; metadata.version is raised only once all of them run it, and only then does the status
// report the new version.
func TestVersionUpgradeRollsThenRaisesMetadataVersion(t *testing.T) {
	e := readyCluster(t)
	raiser := &fakeRaiser{}
	e.rec.Features = raiser
	e.reconcile(t) // the status reports the first version; raising there is a no-op
	raiser.calls = nil
	if v := e.kafka(t).Status.KafkaVersion; v != DefaultKafkaVersion {
		t.Fatalf("status version %q", v)
	}
	patch := []byte(`{"spec":{"kafka":{"version":"4.2.0"}}}`)
	if _, err := e.kp.KafkaplaneV1beta1().Kafkas(ns).Patch(context.Background(), "c", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	e.checker.restart = true
	for i := 0; i < 20; i++ {
		e.reconcile(t)
		e.markReady(t)
		onNew := 0
		for _, p := range e.pods(t) {
			if p.Spec.Containers[0].Image == "apache/kafka:4.2.0" {
				onNew++
			}
		}
		if len(raiser.calls) > 0 && onNew < 3 {
			t.Fatalf("metadata.version raised with %d of 3 nodes on the new version", onNew)
		}
		if v := e.kafka(t).Status.KafkaVersion; v == "4.2.0" {
			if len(raiser.calls) == 0 {
				t.Fatal("the status reports the new version before metadata.version was raised")
			}
			return
		}
	}
	t.Fatal("the upgrade did not finish in 20 reconciles")
}

// TestMetadataVersionFollowsVersionOnceUnset: with spec.kafka.metadataVersion removed,
// metadata.version is raised to the version's newest level (it stayed where the removed value
// had put it, on real Kafka).
func TestMetadataVersionFollowsVersionOnceUnset(t *testing.T) {
	e := readyCluster(t)
	raiser := &fakeRaiser{finalized: 26}
	e.rec.Features = raiser
	// The status says 4.1-IV0, as a metadataVersion that was since removed left it.
	k := e.kafka(t)
	k.Status.KafkaMetadataVersion = "4.1-IV0"
	if _, err := e.kp.KafkaplaneV1beta1().Kafkas(ns).UpdateStatus(context.Background(), k, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	e.reconcile(t)
	if len(raiser.calls) == 0 {
		t.Fatal("metadata.version not raised once metadataVersion was unset")
	}
	if v := e.kafka(t).Status.KafkaMetadataVersion; v != "4.1-IV1" {
		t.Fatalf("status metadata.version %q, want 4.1-IV1 (4.1.1's newest)", v)
	}
	raiser.calls = nil
	e.reconcile(t)
	if len(raiser.calls) != 0 {
		t.Fatal("raised again once the status reports the version's newest level")
	}
}
