package entityops

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Every field of an entity operator's template reaches its objects, and none replaces the
// operator's own labels (its Deployment's selector depends on them); secretPrefix reaches the
// user operator.
func TestTemplateAndSecretPrefix(t *testing.T) {
	meta := &v1beta1.MetadataTemplate{Labels: map[string]string{"team": "kafka", v1beta1.LabelCluster: "other"}, Annotations: map[string]string{"note": "x"}}
	k := &v1beta1.Kafka{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}, Spec: v1beta1.KafkaSpec{EntityOperator: &v1beta1.EntityOperatorSpec{
		UserOperator: &v1beta1.EntityUserOperatorSpec{SecretPrefix: "kp-", EntityOperatorCommon: v1beta1.EntityOperatorCommon{Template: &v1beta1.EntityOperatorTemplate{
			Deployment:     &v1beta1.DeploymentTemplate{Metadata: meta},
			ServiceAccount: &v1beta1.ResourceTemplate{Metadata: meta},
			Pod: &v1beta1.PodTemplate{Metadata: meta, TerminationGracePeriodSeconds: ptr.To[int64](5), SchedulerName: "custom",
				HostAliases: []corev1.HostAlias{{IP: "10.0.0.1", Hostnames: []string{"h"}}}, EnableServiceLinks: ptr.To(false),
				PriorityClassName: "high"},
			Container: &v1beta1.ContainerTemplate{Env: []corev1.EnvVar{{Name: "A", Value: "1"}}},
		}}}}}}
	o := Wanted(k)[0]
	d := o.Deployment(k, "img", "1")
	sa := o.ServiceAccount(k)
	for what, labels := range map[string]map[string]string{"Deployment": d.Labels, "pod": d.Spec.Template.Labels, "ServiceAccount": sa.Labels} {
		if labels["team"] != "kafka" || labels[v1beta1.LabelCluster] != "c" {
			t.Errorf("%s labels %v: want the template's team and the operator's cluster", what, labels)
		}
	}
	if d.Annotations["note"] != "x" || d.Spec.Template.Annotations["note"] != "x" || sa.Annotations["note"] != "x" {
		t.Errorf("annotations: Deployment %v, pod %v, ServiceAccount %v", d.Annotations, d.Spec.Template.Annotations, sa.Annotations)
	}
	ps := d.Spec.Template.Spec
	if *ps.TerminationGracePeriodSeconds != 5 || ps.SchedulerName != "custom" || len(ps.HostAliases) != 1 || *ps.EnableServiceLinks || ps.PriorityClassName != "high" {
		t.Errorf("pod spec does not carry the template: %+v", ps)
	}
	c := ps.Containers[0]
	if !slices.Contains(c.Args, "--secret-prefix=kp-") {
		t.Errorf("args %v lack the secret prefix", c.Args)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "A" }) {
		t.Errorf("env %v lacks the template's", c.Env)
	}
}

// spec.kafkaExporter turns on the topic operator's consumer-lag metrics, with its selection.
func TestKafkaExporterReachesTheTopicOperator(t *testing.T) {
	k := &v1beta1.Kafka{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}, Spec: v1beta1.KafkaSpec{
		EntityOperator: &v1beta1.EntityOperatorSpec{TopicOperator: &v1beta1.EntityTopicOperatorSpec{}, UserOperator: &v1beta1.EntityUserOperatorSpec{}},
		KafkaExporter:  &v1beta1.KafkaExporterSpec{GroupRegex: "billing-.*", IntervalSeconds: ptr.To[int32](15), MaxPartitions: ptr.To[int32](500)}}}
	for _, o := range Wanted(k) {
		args := o.Deployment(k, "img", "1").Spec.Template.Spec.Containers[0].Args
		lag := slices.Contains(args, "--consumer-lag")
		if want := o.Binary == v1beta1.BinaryTopicOperator; lag != want {
			t.Errorf("%s: --consumer-lag %v, want %v", o.Binary, lag, want)
		}
		if lag {
			for _, a := range []string{"--consumer-lag-groups=billing-.*", "--consumer-lag-topics=", "--consumer-lag-interval=15s", "--consumer-lag-max-partitions=500"} {
				if !slices.Contains(args, a) {
					t.Errorf("topic operator args %v lack %s", args, a)
				}
			}
		}
	}
}
