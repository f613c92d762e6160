package nodes

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
)

// Annotations on node pods.
const (
	// AnnotationRevision is the digest of everything the running pod was made from (pod spec,
	// configuration, certificates): when the desired one differs, the pod must roll.
	AnnotationRevision = "kafkaplane.io/revision"
	// AnnotationKafkaVersion is the Kafka version the pod runs.
	AnnotationKafkaVersion = "kafkaplane.io/kafka-version"
	// AnnotationClusterCAKeyGeneration is the cluster CA key generation the pod's trust bundle
	// includes: once every pod has the current one, node certificates may move to the new key.
	AnnotationClusterCAKeyGeneration = "kafkaplane.io/cluster-ca-key-generation"
)

// KafkaUID is the user of the apache/kafka image (appuser). It is set explicitly: the image
// names its user, and runAsNonRoot cannot be verified against a name.
const KafkaUID = 1000

// TmpSizeLimit bounds a node's /tmp.
const TmpSizeLimit = "100Mi"

// StartupTimeout is how long a node may take to open its operator listener after its
// container starts (log recovery included) before the kubelet restarts it.
const StartupTimeout = 30 * time.Minute

// PodOptions are the cluster-wide inputs of a node's pod.
type PodOptions struct {
	Image, Version, Revision string
	// ClusterCAKeyGeneration is the current cluster CA key generation (in the trust bundle).
	ClusterCAKeyGeneration int
	// Metrics configures the JMX exporter, when the operator has one.
	Metrics        *Metrics
	ServiceAccount string
}

// Pod is a node's desired pod, without the revision annotation's value known to the caller.
func Pod(k *v1beta1.Kafka, n Node, o PodOptions) *corev1.Pod {
	name := n.Name(k.Name)
	tpl := mergePodTemplates(k.Spec.Kafka.Template, n.PoolSpec.Spec.Template)
	labels := Labels(k.Name, n)
	annotations := map[string]string{AnnotationRevision: o.Revision, AnnotationKafkaVersion: o.Version,
		AnnotationClusterCAKeyGeneration: strconv.Itoa(o.ClusterCAKeyGeneration)}
	if tpl.Metadata != nil {
		labels = merged(tpl.Metadata.Labels, labels)
		annotations = merged(tpl.Metadata.Annotations, annotations)
	}
	volumes, mounts := volumes(k.Name, n)
	spec := corev1.PodSpec{
		Hostname:                      name,
		Subdomain:                     v1beta1.BrokersServiceName(k.Name),
		ServiceAccountName:            o.ServiceAccount,
		AutomountServiceAccountToken:  ptr.To(false),
		RestartPolicy:                 corev1.RestartPolicyAlways,
		TerminationGracePeriodSeconds: ptr.To[int64](60),
		EnableServiceLinks:            ptr.To(false),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			RunAsUser:      ptr.To[int64](KafkaUID),
			RunAsGroup:     ptr.To[int64](KafkaUID),
			FSGroup:        ptr.To[int64](KafkaUID),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Volumes:    volumes,
		Containers: []corev1.Container{container(k, n, o, mounts)},
	}
	withMetrics(k, n, &spec, o.Metrics)
	applyPodTemplate(&spec, tpl)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: k.Namespace, Labels: labels, Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{ownership.ControllerRef(k, v1beta1.KindKafka)}},
		Spec: spec,
	}
}

func container(k *v1beta1.Kafka, n Node, o PodOptions, mounts []corev1.VolumeMount) corev1.Container {
	c := corev1.Container{
		Name:         "kafka",
		Image:        o.Image,
		Command:      []string{"/bin/sh", ConfigDir + "/" + StartScriptKey},
		Ports:        ports(k, n),
		VolumeMounts: mounts,
		Env:          env(k, n),
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			RunAsNonRoot:             ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
	if r := resources(k, n); r != nil {
		c.Resources = *r.DeepCopy()
	}
	// Ready once the node accepts connections on its operator listener: the replication listener
	// for brokers, the quorum listener for controllers.
	port := int32(v1beta1.PortReplication)
	if !n.Broker {
		port = v1beta1.PortControlPlane
	}
	// A broker opens its listeners only at the end of startup, after log recovery, which can
	// take long on a large log: the startup probe gives it StartupTimeout before liveness
	// applies, so a slow start is not killed into a crash loop.
	probe := corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(port)}}
	c.StartupProbe = &corev1.Probe{ProbeHandler: probe, PeriodSeconds: 5, TimeoutSeconds: 5,
		FailureThreshold: int32(StartupTimeout / (5 * time.Second))}
	c.ReadinessProbe = withProbe(&corev1.Probe{ProbeHandler: probe, PeriodSeconds: 10, TimeoutSeconds: 5}, k.Spec.Kafka.ReadinessProbe)
	c.LivenessProbe = withProbe(&corev1.Probe{ProbeHandler: probe, PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 6}, k.Spec.Kafka.LivenessProbe)
	for _, tpl := range []*v1beta1.ContainerTemplate{templateContainer(k.Spec.Kafka.Template), poolContainer(n.PoolSpec)} {
		if tpl == nil {
			continue
		}
		c.Env = mergeEnv(c.Env, tpl.Env)
		if tpl.SecurityContext != nil {
			c.SecurityContext = tpl.SecurityContext.DeepCopy()
		}
	}
	return c
}

// appendedEnv are the variables whose template value is added to the operator's rather than
// replacing it: a user's KAFKA_OPTS must not drop the operator's JVM options.
var appendedEnv = map[string]bool{"KAFKA_OPTS": true}

// mergeEnv adds a template's variables to the container's: a variable the container already
// has is replaced (one definition each, the template's), except those of appendedEnv, whose
// values are joined.
func mergeEnv(env, tpl []corev1.EnvVar) []corev1.EnvVar {
	out := slices.Clone(env)
	for _, e := range tpl {
		i := slices.IndexFunc(out, func(o corev1.EnvVar) bool { return o.Name == e.Name })
		switch {
		case i < 0:
			out = append(out, e)
		case appendedEnv[e.Name] && e.ValueFrom == nil && out[i].ValueFrom == nil:
			out[i].Value = strings.TrimSpace(out[i].Value + " " + e.Value)
		default:
			out[i] = e
		}
	}
	return out
}

func templateContainer(t *v1beta1.KafkaClusterTemplate) *v1beta1.ContainerTemplate {
	if t == nil {
		return nil
	}
	return t.KafkaContainer
}

func poolContainer(p *v1beta1.KafkaNodePool) *v1beta1.ContainerTemplate {
	if p.Spec.Template == nil {
		return nil
	}
	return p.Spec.Template.KafkaContainer
}

func ports(k *v1beta1.Kafka, n Node) []corev1.ContainerPort {
	var ps []corev1.ContainerPort
	if n.Controller {
		ps = append(ps, corev1.ContainerPort{Name: "tcp-ctrlplane", ContainerPort: v1beta1.PortControlPlane})
	}
	if n.Broker {
		ps = append(ps, corev1.ContainerPort{Name: "tcp-replication", ContainerPort: v1beta1.PortReplication})
		for _, l := range k.Spec.Kafka.Listeners {
			ps = append(ps, corev1.ContainerPort{Name: PortName(l), ContainerPort: l.Port})
		}
	}
	return ps
}

// PortName names a listener's container and service port.
func PortName(l v1beta1.GenericKafkaListener) string { return "tcp-" + l.Name }

func env(k *v1beta1.Kafka, n Node) []corev1.EnvVar {
	var e []corev1.EnvVar
	if k.Spec.Kafka.Rack != nil && n.Broker {
		// The downward API exposes the pod's topology labels, which the API server copies from
		// the node at binding (PodTopologyLabels admission, for the zone and region labels).
		e = append(e, corev1.EnvVar{Name: "KAFKA_BROKER_RACK", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: fmt.Sprintf("metadata.labels['%s']", k.Spec.Kafka.Rack.TopologyKey)}}},
			// The start script refuses to start without a rack when one is asked for.
			corev1.EnvVar{Name: "KAFKA_RACK_TOPOLOGY_KEY", Value: k.Spec.Kafka.Rack.TopologyKey})
	}
	for _, l := range k.Spec.Kafka.Listeners {
		if l.Type == v1beta1.ListenerNodePort && n.Broker {
			e = append(e, corev1.EnvVar{Name: "KAFKA_NODE_HOST", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}}})
			break
		}
	}
	if heap := defaultHeap(k, n); heap != "" {
		e = append(e, corev1.EnvVar{Name: "KAFKA_HEAP_OPTS", Value: heap})
	}
	if j := jvmOptions(k, n); j != nil {
		var heap []string
		if j.Xms != "" {
			heap = append(heap, "-Xms"+j.Xms)
		}
		if j.Xmx != "" {
			heap = append(heap, "-Xmx"+j.Xmx)
		}
		if len(heap) > 0 && (j.Xmx != "" || defaultHeap(k, n) == "") {
			e = append(e, corev1.EnvVar{Name: "KAFKA_HEAP_OPTS", Value: strings.Join(heap, " ")})
		}
		var opts []string
		for _, key := range sortedKeys(j.XX) {
			opts = append(opts, xxOption(key, j.XX[key]))
		}
		for _, p := range j.JavaSystemProperties {
			opts = append(opts, "-D"+p.Name+"="+p.Value)
		}
		if len(opts) > 0 {
			e = append(e, corev1.EnvVar{Name: "KAFKA_OPTS", Value: strings.Join(opts, " ")})
		}
	}
	return e
}

func itoa(n int) string { return strconv.Itoa(n) }

// defaultHeap sizes the heap from the container's memory limit when jvmOptions sets no -Xmx:
// half of it (at most 6 GiB), the rest left to the page cache Kafka relies on and to off-heap
// memory. Kafka's scripts would otherwise start with a fixed 1 GiB heap, more than a small
// container holds. Nothing without a limit.
func defaultHeap(k *v1beta1.Kafka, n Node) string {
	j := jvmOptions(k, n)
	if j != nil && j.Xmx != "" {
		return ""
	}
	r := resources(k, n)
	if r == nil {
		return ""
	}
	limit, ok := r.Limits[corev1.ResourceMemory]
	if !ok || limit.IsZero() {
		return ""
	}
	mib := min(limit.Value()/2/(1<<20), 6<<10)
	xms := ""
	if j != nil && j.Xms != "" {
		xms = "-Xms" + j.Xms + " "
	}
	return xms + "-Xmx" + strconv.FormatInt(mib, 10) + "m"
}

// resources of a node's Kafka container: its pool's, else the Kafka's (spec.kafka.resources), as
// Strimzi takes a pool's settings over the Kafka's.
func resources(k *v1beta1.Kafka, n Node) *corev1.ResourceRequirements {
	if r := n.PoolSpec.Spec.Resources; r != nil {
		return r
	}
	return k.Spec.Kafka.Resources
}

// jvmOptions of a node: its pool's, else the Kafka's, whole (not merged key by key).
func jvmOptions(k *v1beta1.Kafka, n Node) *v1beta1.JvmOptions {
	if j := n.PoolSpec.Spec.JvmOptions; j != nil {
		return j
	}
	return k.Spec.Kafka.JvmOptions
}

// withProbe sets the timings a Kafka's probe settings give; the check itself stays the
// operator's (a TCP connection to the node's operator listener).
func withProbe(p *corev1.Probe, s *v1beta1.Probe) *corev1.Probe {
	if s == nil {
		return p
	}
	for _, f := range []struct {
		dst *int32
		src *int32
	}{{&p.InitialDelaySeconds, s.InitialDelaySeconds}, {&p.TimeoutSeconds, s.TimeoutSeconds},
		{&p.PeriodSeconds, s.PeriodSeconds}, {&p.SuccessThreshold, s.SuccessThreshold}, {&p.FailureThreshold, s.FailureThreshold}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	return p
}

func xxOption(key, value string) string {
	switch value {
	case "true":
		return "-XX:+" + key
	case "false":
		return "-XX:-" + key
	}
	return "-XX:" + key + "=" + value
}

// volumes are the node's configuration, certificates, scratch space and data volumes.
func volumes(cluster string, n Node) ([]corev1.Volume, []corev1.VolumeMount) {
	name := n.Name(cluster)
	vs := []corev1.Volume{
		{Name: "node-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}},
		// The node's private key: readable by the owner and the pod's fsGroup (the Kafka user),
		// not by every user of the container.
		{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name, DefaultMode: ptr.To[int32](0o440)}}},
		// Scratch space for the rendered configuration and the start script's work: bounded,
		// so that a runaway writer is evicted rather than filling the node's disk.
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr.To(resource.MustParse(TmpSizeLimit))}}},
	}
	ms := []corev1.VolumeMount{
		{Name: "node-config", MountPath: ConfigDir, ReadOnly: true},
		{Name: "certs", MountPath: kafkaconfig.CertsDir, ReadOnly: true},
		{Name: "tmp", MountPath: "/tmp"},
	}
	for _, d := range DataVolumes(cluster, n) {
		v := corev1.Volume{Name: d.Volume}
		if d.Claim != "" {
			v.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: d.Claim}
		} else {
			ed := &corev1.EmptyDirVolumeSource{}
			if d.SizeLimit != "" {
				if q, err := resource.ParseQuantity(d.SizeLimit); err == nil {
					ed.SizeLimit = &q
				}
			}
			v.EmptyDir = ed
		}
		vs = append(vs, v)
		ms = append(ms, corev1.VolumeMount{Name: d.Volume, MountPath: d.MountPath})
	}
	return vs, ms
}

func mergePodTemplates(k *v1beta1.KafkaClusterTemplate, p *v1beta1.KafkaNodePoolTemplate) v1beta1.PodTemplate {
	var out v1beta1.PodTemplate
	if k != nil && k.Pod != nil {
		out = *k.Pod.DeepCopy()
	}
	if p == nil || p.Pod == nil {
		return out
	}
	// The pool's template wins property by property, as in Strimzi since 0.49.
	pp := p.Pod.DeepCopy()
	if pp.Metadata != nil {
		if out.Metadata == nil {
			out.Metadata = &v1beta1.MetadataTemplate{}
		}
		out.Metadata.Labels = merged(out.Metadata.Labels, pp.Metadata.Labels)
		out.Metadata.Annotations = merged(out.Metadata.Annotations, pp.Metadata.Annotations)
	}
	if pp.ImagePullSecrets != nil {
		out.ImagePullSecrets = pp.ImagePullSecrets
	}
	if pp.SecurityContext != nil {
		out.SecurityContext = pp.SecurityContext
	}
	if pp.TerminationGracePeriodSeconds != nil {
		out.TerminationGracePeriodSeconds = pp.TerminationGracePeriodSeconds
	}
	if pp.Affinity != nil {
		out.Affinity = pp.Affinity
	}
	if pp.Tolerations != nil {
		out.Tolerations = pp.Tolerations
	}
	if pp.NodeSelector != nil {
		out.NodeSelector = pp.NodeSelector
	}
	if pp.TopologySpreadConstraints != nil {
		out.TopologySpreadConstraints = pp.TopologySpreadConstraints
	}
	if pp.PriorityClassName != "" {
		out.PriorityClassName = pp.PriorityClassName
	}
	if pp.SchedulerName != "" {
		out.SchedulerName = pp.SchedulerName
	}
	if pp.HostAliases != nil {
		out.HostAliases = pp.HostAliases
	}
	if pp.EnableServiceLinks != nil {
		out.EnableServiceLinks = pp.EnableServiceLinks
	}
	return out
}

func applyPodTemplate(spec *corev1.PodSpec, t v1beta1.PodTemplate) {
	spec.ImagePullSecrets = t.ImagePullSecrets
	if t.SecurityContext != nil {
		// The template's context replaces ours, but the user and groups it leaves unset stay
		// the image's numeric ones: the image names its user, so runAsNonRoot could not be
		// verified without them, and the node's files are readable through fsGroup.
		sc := t.SecurityContext.DeepCopy()
		if sc.RunAsUser == nil {
			sc.RunAsUser = ptr.To[int64](KafkaUID)
		}
		if sc.RunAsGroup == nil {
			sc.RunAsGroup = ptr.To[int64](KafkaUID)
		}
		if sc.FSGroup == nil {
			sc.FSGroup = ptr.To[int64](KafkaUID)
		}
		spec.SecurityContext = sc
	}
	if t.TerminationGracePeriodSeconds != nil {
		spec.TerminationGracePeriodSeconds = t.TerminationGracePeriodSeconds
	}
	spec.Affinity = t.Affinity
	spec.Tolerations = t.Tolerations
	spec.NodeSelector = t.NodeSelector
	spec.TopologySpreadConstraints = t.TopologySpreadConstraints
	spec.PriorityClassName = t.PriorityClassName
	spec.SchedulerName = t.SchedulerName
	spec.HostAliases = t.HostAliases
	if t.EnableServiceLinks != nil {
		spec.EnableServiceLinks = t.EnableServiceLinks
	}
}

// merged returns base with over's entries on top; our own labels are passed as over so that a
// template cannot change them.
func merged(base, over map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, over)
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
