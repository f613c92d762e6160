package clusters

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
)

// TestAdmittedButInvalidKafkas: specs the schema admits but the operator cannot act on, each
// applied to a running cluster (3 pods): the Kafka ends Ready=False with the reason and a message
// naming the problem, a Warning Event says the same, and no pod is replaced or changed.
func TestAdmittedButInvalidKafkas(t *testing.T) {
	cases := []struct {
		name, patch, poolPatch, annotate string
		reason, want                     string
	}{
		{name: "config value is an object", patch: `{"spec":{"kafka":{"config":{"log.retention.ms":{"a":1}}}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "spec.kafka.config.log.retention.ms"},
		{name: "config value is null in a list", patch: `{"spec":{"kafka":{"config":{"log.dirs.x":[null]}}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "is not a Kafka config value"},
		{name: "security key", patch: `{"spec":{"kafka":{"config":{"ssl.client.auth":"none"}}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "spec.kafka.config.ssl.client.auth is set by the operator"},
		{name: "authorizer key", patch: `{"spec":{"kafka":{"config":{"authorizer.class.name":"x"}}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "spec.kafka.config.authorizer.class.name"},
		{name: "per-listener security key", patch: `{"spec":{"kafka":{"config":{"listener.name.tls-9093.ssl.client.auth":"none"}}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "listener.name.tls-9093.ssl.client.auth"},
		{name: "log4j 1 logger form", patch: `{"spec":{"kafka":{"logging":{"type":"inline","loggers":{"log4j.logger.kafka":"DEBUG"}}}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "use rootLogger.level"},
		{name: "unknown log level", patch: `{"spec":{"kafka":{"logging":{"type":"inline","loggers":{"rootLogger.level":"NOISY"}}}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: `level "NOISY" is not one of`},
		{name: "logger name with a newline", patch: `{"spec":{"kafka":{"logging":{"type":"inline","loggers":{"logger.a.name":"kafka\nappender.f.type = File","logger.a.level":"INFO"}}}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "is not a logger name"},
		{name: "external logging ConfigMap missing", patch: `{"spec":{"kafka":{"logging":{"type":"external","valueFrom":{"configMapKeyRef":{"name":"nope","key":"k"}}}}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "ConfigMap nope not found"},
		{name: "metrics without an exporter", patch: `{"spec":{"kafka":{"metricsConfig":{"type":"jmxPrometheusExporter","valueFrom":{"configMapKeyRef":{"name":"m","key":"k"}}}}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "--jmx-exporter-image"},
		{name: "rack key the downward API cannot give", patch: `{"spec":{"kafka":{"rack":{"topologyKey":"kubernetes.io/hostname"}}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: `rack.topologyKey "kubernetes.io/hostname"`},
		{name: "ingress without a bootstrap host", patch: `{"spec":{"kafka":{"listeners":[{"name":"tls","port":9093,"type":"internal","tls":true},{"name":"ext","port":9094,"type":"ingress","tls":true,"configuration":{"hostTemplate":"b-{nodeId}.example.com"}}]}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "needs configuration.bootstrap.host"},
		{name: "ingress without broker hosts", patch: `{"spec":{"kafka":{"listeners":[{"name":"tls","port":9093,"type":"internal","tls":true},{"name":"ext","port":9094,"type":"ingress","tls":true,"configuration":{"bootstrap":{"host":"kafka.example.com"}}}]}}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "needs configuration.hostTemplate or a host per broker"},
		{name: "controllers scaled to zero", poolPatch: `{"spec":{"replicas":0}}`,
			reason: v1beta1.ReasonInvalidSpec, want: "no KafkaNodePool with replicas has the controller role"},
		{name: "node ID annotation garbage", annotate: "[a-b]",
			reason: v1beta1.ReasonInvalidSpec, want: "is not a node ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := readyCluster(t)
			before := e.pods(t)
			ctx := context.Background()
			if tc.patch != "" {
				if _, err := e.kp.KafkaplaneV1beta1().Kafkas(ns).Patch(ctx, "c", types.MergePatchType, []byte(tc.patch), metav1.PatchOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.poolPatch != "" {
				if _, err := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Patch(ctx, "controllers", types.MergePatchType, []byte(tc.poolPatch), metav1.PatchOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.annotate != "" {
				patch := `{"metadata":{"annotations":{"` + v1beta1.AnnotationNextNodeIDs + `":"` + tc.annotate + `"}},"spec":{"replicas":3}}`
				if _, err := e.kp.KafkaplaneV1beta1().KafkaNodePools(ns).Patch(ctx, "brokers", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(200 * time.Millisecond) // the caches see the change
			rec := e.rec.Recorder.(*events.FakeRecorder)
			for len(rec.Events) > 0 {
				<-rec.Events
			}
			e.checker.restart = true
			e.reconcile(t)
			c := findReady(e.kafka(t))
			if c == nil || c.Status != metav1.ConditionFalse || c.Reason != tc.reason || !strings.Contains(c.Message, tc.want) {
				t.Fatalf("Ready condition %+v, want %s with %q", c, tc.reason, tc.want)
			}
			var event bool
			for len(rec.Events) > 0 {
				ev := <-rec.Events
				event = event || strings.HasPrefix(ev, corev1.EventTypeWarning+" "+tc.reason) && strings.Contains(ev, tc.want)
			}
			if !event {
				t.Errorf("no Warning %s event naming %q", tc.reason, tc.want)
			}
			after := e.pods(t)
			if len(after) != len(before) {
				t.Fatalf("%d pods after, %d before", len(after), len(before))
			}
			for name, p := range before {
				a, ok := after[name]
				if !ok || a.UID != p.UID || a.Annotations[nodes.AnnotationRevision] != p.Annotations[nodes.AnnotationRevision] {
					t.Errorf("pod %s changed", name)
				}
			}
		})
	}
}

// The two reasons of a valid Kafka that is not Ready: Reconciling while its nodes start, and
// InternalError (with the API server's error) when a write fails, retried by the controller.
func TestReasonsReconcilingAndInternalError(t *testing.T) {
	e := newEnv(t, testKafka(), testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	if c := findReady(e.kafka(t)); c == nil || c.Reason != v1beta1.ReasonReconciling || !strings.Contains(c.Message, "nodes not ready") {
		t.Fatalf("a cluster starting: %+v", c)
	}
	e.kube.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, fmt.Errorf("etcdserver: request timed out")
	})
	for name := range e.pods(t) {
		if err := e.kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := e.rec.Reconcile(context.Background(), controller.Key{Namespace: ns, Name: "c"}); err == nil {
		t.Fatal("a failed write is not returned for a retry")
	}
	if c := findReady(e.kafka(t)); c == nil || c.Reason != v1beta1.ReasonInternalError || !strings.Contains(c.Message, "etcdserver: request timed out") {
		t.Fatalf("after a failed write: %+v", c)
	}
}
