package nodes

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Metrics is how a node exposes Prometheus metrics: the JMX exporter's Java agent, copied by
// an init container from an image the operator is configured with (the apache/kafka image has
// none), configured from the user's ConfigMap key, serving on port 9404.
type Metrics struct {
	// Image holds the agent jar at JarPath.
	Image, JarPath string
}

// Paths of the exporter in the Kafka container.
const (
	metricsAgentDir  = "/opt/kafkaplane/jmx-exporter"
	metricsAgentJar  = metricsAgentDir + "/jmx_prometheus_javaagent.jar"
	metricsConfigDir = "/opt/kafka/metrics"
	metricsConfig    = metricsConfigDir + "/config.yml"
)

// withMetrics adds the exporter to a pod when the Kafka asks for metrics.
func withMetrics(k *v1beta1.Kafka, n Node, spec *corev1.PodSpec, m *Metrics) {
	mc := k.Spec.Kafka.MetricsConfig
	if mc == nil || m == nil {
		return
	}
	ref := mc.ValueFrom.ConfigMapKeyRef
	spec.Volumes = append(spec.Volumes,
		corev1.Volume{Name: "jmx-exporter", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: "metrics-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name},
			Items:                []corev1.KeyToPath{{Key: ref.Key, Path: "config.yml"}}}}})
	c := &spec.Containers[0]
	init := corev1.Container{
		Name: "jmx-exporter", Image: m.Image, Command: []string{"cp", m.JarPath, metricsAgentJar},
		VolumeMounts:    []corev1.VolumeMount{{Name: "jmx-exporter", MountPath: metricsAgentDir}},
		SecurityContext: c.SecurityContext.DeepCopy(),
		Resources:       corev1.ResourceRequirements{},
	}
	// template.initContainer (the Kafka's, then the pool's) customises it.
	var tpls []*v1beta1.ContainerTemplate
	if t := k.Spec.Kafka.Template; t != nil {
		tpls = append(tpls, t.InitContainer)
	}
	if t := n.PoolSpec.Spec.Template; t != nil {
		tpls = append(tpls, t.InitContainer)
	}
	for _, t := range tpls {
		if t == nil {
			continue
		}
		init.Env = mergeEnv(init.Env, t.Env)
		if t.SecurityContext != nil {
			init.SecurityContext = t.SecurityContext.DeepCopy()
		}
	}
	spec.InitContainers = append(spec.InitContainers, init)
	c.VolumeMounts = append(c.VolumeMounts,
		corev1.VolumeMount{Name: "jmx-exporter", MountPath: metricsAgentDir, ReadOnly: true},
		corev1.VolumeMount{Name: "metrics-config", MountPath: metricsConfigDir, ReadOnly: true})
	c.Ports = append(c.Ports, corev1.ContainerPort{Name: "tcp-prometheus", ContainerPort: v1beta1.PortMetrics})
	agent := "-javaagent:" + metricsAgentJar + "=" + itoa(v1beta1.PortMetrics) + ":" + metricsConfig
	for i := range c.Env {
		if c.Env[i].Name == "KAFKA_OPTS" {
			c.Env[i].Value = strings.TrimSpace(c.Env[i].Value + " " + agent)
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: "KAFKA_OPTS", Value: agent})
}
