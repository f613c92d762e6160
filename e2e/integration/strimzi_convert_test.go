package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/strimzi"
)

// TestConvertedStrimziManifests: every object `kubectl kafkaplane convert` makes of the Strimzi
// corpus (pkg/strimzi/testdata/in: five eras, v1alpha1 to v1) is accepted by the real API
// server's schema and CEL rules; the v1 KRaft cluster and the tuned v1beta2 one are then
// reconciled to Ready (pods simulated, Kafka a kfake stand-in).
func TestConvertedStrimziManifests(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ctx := t.Context()
	files, err := filepath.Glob("../../pkg/strimzi/testdata/in/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("corpus: %v %v", files, err)
	}
	converted := map[string][]strimzi.Object{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := strimzi.Convert(data, filepath.Base(file), &strimzi.Report{})
		if err != nil {
			t.Fatal(err)
		}
		converted[filepath.Base(file)] = objs
		// Each file in a namespace of its own: the corpus reuses names.
		ns := f.Namespace(t)
		for _, o := range objs {
			u := &unstructured.Unstructured{Object: o}
			u.SetNamespace(ns)
			if _, err := f.ApplyObject(ctx, ns, u); err != nil {
				t.Errorf("%s: the API server refused the converted %s %s: %v", filepath.Base(file), u.GetKind(), u.GetName(), err)
			}
		}
		t.Logf("%s: %d objects accepted", filepath.Base(file), len(objs))
	}

	targets := map[string]string{"01-zookeeper-v1beta1-listener-map.yaml": "legacy", "02-zookeeper-v1beta2.yaml": "orders",
		"03-kraft-v1beta2-node-pools.yaml": "events", "04-kraft-v1.yaml": "my-cluster", "06-kraft-v1beta2-templates.yaml": "tuned",
		"07-zookeeper-v1beta1-route.yaml": "routed"}
	if only := os.Getenv("PROBE_ONLY"); only != "" {
		targets = map[string]string{only: targets[only]}
	}
	// 01 names the StorageClass "fast" of the user's own cluster: here it is the harness's
	// default class under that name.
	scs, err := f.Kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs.Items {
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
			fast := sc.DeepCopy()
			fast.ObjectMeta = metav1.ObjectMeta{Name: "fast"}
			if _, err := f.Kube.StorageV1().StorageClasses().Create(ctx, fast, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
			break
		}
	}
	for file, cluster := range targets {
		t.Run(cluster, func(t *testing.T) {
			t.Parallel() // six simulated clusters, each with its own operators and stand-in
			ns := f.Namespace(t)
			objs := converted[file]
			if cluster == "legacy" {
				objs = append(objs, converted["05-user-v1alpha1.yaml"]...) // 05's user is legacy's
			}
			for _, o := range objs {
				u := &unstructured.Unstructured{Object: o}
				u.SetNamespace(ns)
				if _, err := f.ApplyObject(ctx, ns, u); err != nil {
					t.Fatal(err)
				}
			}
			overrides := filepath.Join(t.TempDir(), "bootstrap.json")
			// The pods are simulated: the exporter image, like Kafka's, is never pulled; the
			// operator only needs one configured for the converted metricsConfig.
			startClusterOperator(t, f, ns, "--kafka-bootstrap-overrides="+overrides, "--jmx-exporter-image=ghcr.io/kafkaplane/jmx-exporter:test")
			si := startStandInFor(t, f, ns, cluster, overrides)
			framework.Eventually(t, 4*time.Minute, "the converted Kafka "+cluster+" Ready", kafkaReady(t, f, ns, cluster))
			// The entity operators' pods are simulated and their Service does not lead to the
			// stand-in: the topic and user operator binaries run here instead, with the
			// certificates the cluster operator issued them, against the stand-in.
			for _, binary := range []string{"topic-operator", "user-operator"} {
				name := v1beta1.EntityTopicOperatorName(cluster)
				args := []string{}
				if binary == "user-operator" {
					name = v1beta1.EntityUserOperatorName(cluster)
					args = append(args, "--clients-ca-namespace="+ns)
				}
				s, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, v1beta1.EntityOperatorCertsSecretName(name), metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				for k, v := range s.Data {
					if err := os.WriteFile(filepath.Join(dir, k), v, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				args = append(args, "--tls-ca-file="+filepath.Join(dir, "ca.crt"), "--tls-cert-file="+filepath.Join(dir, "tls.crt"),
					"--tls-key-file="+filepath.Join(dir, "tls.key"), "--resource-labels=kafkaplane.io/cluster="+cluster)
				startOperator(t, f, binary, ns, si.ListenAddrs()[0], args...)
			}
			framework.Eventually(t, 2*time.Minute, "every converted KafkaTopic and KafkaUser of "+cluster+" Ready", func() (bool, error) {
				topics, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return false, err
				}
				users, err := f.Kafkaplane.KafkaplaneV1beta1().KafkaUsers(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return false, err
				}
				var waiting []string
				for _, kt := range topics.Items {
					if c := meta.FindStatusCondition(kt.Status.Conditions, v1beta1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
						waiting = append(waiting, fmt.Sprintf("topic %s: %+v", kt.Name, c))
					}
				}
				for _, ku := range users.Items {
					if c := meta.FindStatusCondition(ku.Status.Conditions, v1beta1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
						waiting = append(waiting, fmt.Sprintf("user %s: %+v", ku.Name, c))
					}
				}
				t.Logf("%s: %d topics, %d users", cluster, len(topics.Items), len(users.Items))
				return len(waiting) == 0, fmt.Errorf("%v", waiting)
			})
			if cluster == "tuned" {
				checkTunedCluster(t, f, ns, si.Levels(0))
			}
		})
	}
}

// checkTunedCluster checks that what the converted Strimzi 0.45 cluster tunes reached its
// objects: Kafka-level resources, JVM options, probe timings and pod template on the nodes, the
// PVC template's labels kept, the split entity operator templates and the user Secret prefix,
// and the inline loggers (converted from log4j 1's form) set on the brokers at runtime.
func checkTunedCluster(t *testing.T, f *framework.Framework, ns string, levels map[string]string) {
	t.Helper()
	pods, err := f.Kube.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "kafkaplane.io/cluster=tuned,app.kubernetes.io/name=kafka"})
	if err != nil || len(pods.Items) != 3 {
		t.Fatalf("%d node pods, %v", len(pods.Items), err)
	}
	for _, p := range pods.Items {
		c := p.Spec.Containers[0]
		var heap, opts string
		for _, e := range c.Env {
			switch e.Name {
			case "KAFKA_HEAP_OPTS":
				heap = e.Value
			case "KAFKA_OPTS":
				opts = e.Value
			}
		}
		if c.Resources.Limits.Memory().String() != "2Gi" || heap != "-Xms1g -Xmx1g" || !strings.Contains(opts, "-Dnetworkaddress.cache.ttl=30") ||
			c.LivenessProbe.InitialDelaySeconds != 30 || c.ReadinessProbe.InitialDelaySeconds != 15 ||
			*p.Spec.TerminationGracePeriodSeconds != 120 || len(p.Spec.Tolerations) == 0 {
			t.Errorf("pod %s: resources %v, heap %q, opts %q, probes %d/%d, grace %d, tolerations %v", p.Name, c.Resources.Limits,
				heap, opts, c.LivenessProbe.InitialDelaySeconds, c.ReadinessProbe.InitialDelaySeconds, *p.Spec.TerminationGracePeriodSeconds, p.Spec.Tolerations)
		}
	}
	for _, name := range []string{"tuned-entity-topic-operator", "tuned-entity-user-operator"} {
		d, err := f.Kube.AppsV1().Deployments(ns).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if d.Spec.Template.Labels["team"] != "streams" || len(c.Env) < 3 {
			t.Errorf("%s: pod labels %v, env %v", name, d.Spec.Template.Labels, c.Env)
		}
		if strings.Contains(name, "user") && !slices.Contains(c.Args, "--secret-prefix=kafka-") {
			t.Errorf("%s: args %v lack the secret prefix", name, c.Args)
		}
	}
	if levels["org.apache.kafka.coordinator.group.GroupCoordinatorService"] != "DEBUG" || levels["kafka.request.logger"] != "WARN" || levels["root"] != "INFO" {
		t.Errorf("broker 0's logger levels: %v", levels)
	}
}
