package clusters

import (
	"context"
	"k8s.io/apimachinery/pkg/api/resource"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

func metricsKafka() *v1beta1.Kafka {
	k := testKafka()
	k.Spec.EntityOperator = nil
	k.Spec.Kafka.MetricsConfig = &v1beta1.MetricsConfig{Type: "jmxPrometheusExporter",
		ValueFrom: v1beta1.MetricsConfigSource{ConfigMapKeyRef: v1beta1.ConfigMapKeySelector{Name: "kafka-metrics", Key: "config.yml"}}}
	return k
}

func TestMetricsNeedAnExporter(t *testing.T) {
	e := newEnv(t, metricsKafka(), testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	if c := findReady(e.kafka(t)); c == nil || c.Reason != v1beta1.ReasonInvalidSpec || !strings.Contains(c.Message, "--jmx-exporter-image") {
		t.Fatalf("condition: %+v", c)
	}
	if n := len(e.pods(t)); n != 0 {
		t.Fatalf("%d pods", n)
	}
}

// TestMetricsExporter: nodes run the JMX exporter agent from the configured image with the
// user's configuration, on port 9404; a change of that configuration rolls them.
func TestMetricsExporter(t *testing.T) {
	e := newEnv(t, metricsKafka(), testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.rec.Opts.Metrics = &nodes.Metrics{Image: "example.com/jmx-exporter:1", JarPath: "/jmx_prometheus_javaagent.jar"}
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kafka-metrics", Namespace: ns}, Data: map[string]string{"config.yml": "rules: [{pattern: '.*'}]"}}
	if _, err := e.kube.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t)
	e.markReady(t)
	e.reconcile(t)
	pod := e.pods(t)[e.nodeNames(t, "brokers")[0]]
	if pod == nil || len(pod.Spec.InitContainers) != 1 || pod.Spec.InitContainers[0].Image != "example.com/jmx-exporter:1" {
		t.Fatalf("pod: %+v", pod)
	}
	c := pod.Spec.Containers[0]
	opts := ""
	for _, env := range c.Env {
		if env.Name == "KAFKA_OPTS" {
			opts = env.Value
		}
	}
	if !strings.Contains(opts, "-javaagent:/opt/kafkaplane/jmx-exporter/jmx_prometheus_javaagent.jar=9404:/opt/kafka/metrics/config.yml") {
		t.Errorf("KAFKA_OPTS %q", opts)
	}
	if c := findReady(e.kafka(t)); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("condition: %+v", c)
	}
	cm.Data["config.yml"] = "rules: [{pattern: 'kafka.server.*'}]"
	if _, err := e.kube.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t)
	if c := findReady(e.kafka(t)); c == nil || !strings.Contains(c.Message, "nodes to restart") {
		t.Fatalf("a metrics configuration change does not roll: %+v", c)
	}
}

func TestHeapFromMemoryLimit(t *testing.T) {
	pool := testPool("brokers", 1, v1beta1.RoleBroker)
	pool.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}}
	k := testKafka()
	k.Spec.EntityOperator = nil
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), pool)
	e.reconcile(t)
	pod := e.pods(t)[e.nodeNames(t, "brokers")[0]]
	for _, env := range pod.Spec.Containers[0].Env {
		if env.Name == "KAFKA_HEAP_OPTS" {
			if env.Value != "-Xmx1024m" {
				t.Fatalf("KAFKA_HEAP_OPTS %q", env.Value)
			}
			return
		}
	}
	t.Fatal("no heap size from the memory limit")
}

func TestPausedKafkaChangesNothing(t *testing.T) {
	k := testKafka()
	k.Annotations = map[string]string{v1beta1.AnnotationPauseReconciliation: "true"}
	e := newEnv(t, k, testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	if n := len(e.pods(t)); n != 0 {
		t.Fatalf("%d pods for a paused Kafka", n)
	}
	if c := findReady(e.kafka(t)); c == nil || c.Reason != v1beta1.ReasonReconciliationPaused {
		t.Fatalf("condition: %+v", c)
	}
}
