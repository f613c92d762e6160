// Package entityops builds a cluster's entity operators — the topic operator and the user
// operator, each its own Deployment with its own image, ServiceAccount, least-privilege Role and
// RoleBinding in the namespace it watches, and a client certificate for Kafka's replication
// listener (mutual TLS, signed by the cluster CA).
package entityops

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/certs"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
	"github.com/kafkaplane/kafkaplane/pkg/rbac"
)

// Operator is one entity operator of a cluster.
type Operator struct {
	// Binary is v1beta1.BinaryTopicOperator or v1beta1.BinaryUserOperator.
	Binary string
	// Name names its Deployment, ServiceAccount, Role, RoleBinding and Lease.
	Name string
	// Spec is the common part of its spec.
	Spec v1beta1.EntityOperatorCommon
	// SecretPrefix of the user operator.
	SecretPrefix string
}

// Wanted lists the entity operators a Kafka asks for.
func Wanted(k *v1beta1.Kafka) []Operator {
	eo := k.Spec.EntityOperator
	if eo == nil {
		return nil
	}
	var out []Operator
	if eo.TopicOperator != nil {
		out = append(out, Operator{Binary: v1beta1.BinaryTopicOperator, Name: v1beta1.EntityTopicOperatorName(k.Name), Spec: eo.TopicOperator.EntityOperatorCommon})
	}
	if eo.UserOperator != nil {
		out = append(out, Operator{Binary: v1beta1.BinaryUserOperator, Name: v1beta1.EntityUserOperatorName(k.Name), Spec: eo.UserOperator.EntityOperatorCommon,
			SecretPrefix: eo.UserOperator.SecretPrefix})
	}
	return out
}

// All lists both possible entity operators of a cluster, to delete the ones no longer wanted.
func All(cluster string) []Operator {
	return []Operator{
		{Binary: v1beta1.BinaryTopicOperator, Name: v1beta1.EntityTopicOperatorName(cluster)},
		{Binary: v1beta1.BinaryUserOperator, Name: v1beta1.EntityUserOperatorName(cluster)},
	}
}

// WatchedNamespace is where the operator watches its resources.
func (o Operator) WatchedNamespace(k *v1beta1.Kafka) string {
	if o.Spec.WatchedNamespace != "" {
		return o.Spec.WatchedNamespace
	}
	return k.Namespace
}

// Principal is the operator's Kafka principal: a super user.
func Principal(name string) string { return "User:CN=" + name + ",O=" + certs.Organization }

// Labels of the operator's objects.
func (o Operator) Labels(k *v1beta1.Kafka) map[string]string {
	return ownership.Labels(k.Name, v1beta1.KindKafka, k.Name, o.Binary)
}

func (o Operator) meta(k *v1beta1.Kafka, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: k.Namespace, Labels: o.Labels(k),
		OwnerReferences: []metav1.OwnerReference{ownership.ControllerRef(k, v1beta1.KindKafka)}}
}

// CertLeaf is the operator's client certificate.
func (o Operator) CertLeaf(k *v1beta1.Kafka, validity time.Duration) certs.Leaf {
	return certs.Leaf{Secret: v1beta1.EntityOperatorCertsSecretName(o.Name), Namespace: k.Namespace, Labels: o.Labels(k),
		Owner: ownership.ControllerRef(k, v1beta1.KindKafka),
		Leaf:  pkiLeaf(o.Name, validity)}
}

// ServiceAccount of the operator.
func (o Operator) ServiceAccount(k *v1beta1.Kafka) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{ObjectMeta: o.meta(k, o.Name)}
	if t := o.Spec.Template; t != nil && t.ServiceAccount != nil && t.ServiceAccount.Metadata != nil {
		sa.Annotations = t.ServiceAccount.Metadata.Annotations
		addLabels(sa.Labels, t.ServiceAccount.Metadata.Labels)
	}
	return sa
}

// Roles are the operator's Roles: its rules in the watched namespace and, for a user operator
// watching another namespace, read access to the two clients CA Secrets (by name) where the
// Kafka is. Objects in another namespace cannot be owned by the Kafka; they carry its labels.
func (o Operator) Roles(k *v1beta1.Kafka) []*rbacv1.Role {
	rules := rbac.TopicOperatorRules()
	if o.Binary == v1beta1.BinaryUserOperator {
		rules = rbac.UserOperatorRules()
	}
	watched := o.WatchedNamespace(k)
	main := &rbacv1.Role{ObjectMeta: o.meta(k, o.Name), Rules: rules}
	main.Namespace = watched
	out := []*rbacv1.Role{main}
	if watched != k.Namespace {
		main.OwnerReferences = nil
		if o.Binary == v1beta1.BinaryUserOperator {
			out = append(out, &rbacv1.Role{ObjectMeta: o.meta(k, o.Name+"-clients-ca"), Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"},
				ResourceNames: []string{v1beta1.ClientsCACertSecretName(k.Name), v1beta1.ClientsCAKeySecretName(k.Name)}}}})
		}
		// Its leader-election Lease and events are in its own namespace.
		out = append(out, &rbacv1.Role{ObjectMeta: o.meta(k, o.Name+"-lease"), Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}}}})
	}
	return out
}

// RoleBinding binds one of the operator's Roles to its ServiceAccount.
func (o Operator) RoleBinding(k *v1beta1.Kafka, role *rbacv1.Role) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name, Namespace: role.Namespace, Labels: role.Labels, OwnerReferences: role.OwnerReferences},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: o.Name, Namespace: k.Namespace}}}
}

// addLabels adds a template's labels to an object's, never replacing one of the operator's
// (its selectors and ownership depend on them).
func addLabels(dst, tpl map[string]string) {
	for key, v := range tpl {
		if _, ours := dst[key]; !ours {
			dst[key] = v
		}
	}
}

// CertsDir is where the operator's certificate Secret is mounted.
const CertsDir = "/etc/kafkaplane/certs"

// Deployment runs the operator: one replica with leader election, the internal bootstrap
// address over mutual TLS, a restricted security context.
func (o Operator) Deployment(k *v1beta1.Kafka, defaultImage string, certRevision string) *appsv1.Deployment {
	image := o.Spec.Image
	if image == "" {
		image = defaultImage
	}
	args := []string{
		"--watch-namespaces=" + o.WatchedNamespace(k),
		"--resource-labels=" + v1beta1.LabelCluster + "=" + k.Name,
		"--leader-election-id=" + o.Name,
		"--http-address=:8080",
		fmt.Sprintf("--bootstrap-servers=%s.%s.svc:%d", v1beta1.BootstrapServiceName(k.Name), k.Namespace, v1beta1.PortReplication),
		"--tls-ca-file=" + CertsDir + "/" + certs.CATrustKey,
		"--tls-cert-file=" + CertsDir + "/" + certs.ClientCertKey,
		"--tls-key-file=" + CertsDir + "/" + certs.ClientKeyKey,
	}
	if o.Spec.ReconciliationIntervalMs != nil {
		args = append(args, "--resync-period="+(time.Duration(*o.Spec.ReconciliationIntervalMs)*time.Millisecond).String())
	}
	if o.Spec.LogLevel != "" {
		args = append(args, "--log-level="+strings.ToUpper(o.Spec.LogLevel))
	}
	if ke := k.Spec.KafkaExporter; ke != nil && o.Binary == v1beta1.BinaryTopicOperator {
		args = append(args, "--consumer-lag", "--consumer-lag-groups="+ke.GroupRegex, "--consumer-lag-topics="+ke.TopicRegex)
		if ke.IntervalSeconds != nil {
			args = append(args, fmt.Sprintf("--consumer-lag-interval=%ds", *ke.IntervalSeconds))
		}
		if ke.MaxPartitions != nil {
			args = append(args, fmt.Sprintf("--consumer-lag-max-partitions=%d", *ke.MaxPartitions))
		}
	}
	if o.Binary == v1beta1.BinaryUserOperator {
		args = append(args, "--clients-ca-namespace="+k.Namespace)
		if o.SecretPrefix != "" {
			args = append(args, "--secret-prefix="+o.SecretPrefix)
		}
		if az := k.Spec.Kafka.Authorization; az != nil && len(az.SuperUsers) > 0 {
			args = append(args, "--super-users="+strings.Join(az.SuperUserPrincipals(), ";"))
		}
		if k.Spec.ClientsCa != nil {
			if k.Spec.ClientsCa.ValidityDays > 0 {
				args = append(args, "--certificate-validity-days="+strconv.Itoa(int(k.Spec.ClientsCa.ValidityDays)))
			}
			if k.Spec.ClientsCa.RenewalDays > 0 {
				args = append(args, "--certificate-renewal-days="+strconv.Itoa(int(k.Spec.ClientsCa.RenewalDays)))
			}
		}
	}
	fieldEnv := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	c := corev1.Container{
		Name: o.Binary, Image: image, Args: args,
		Env:   []corev1.EnvVar{fieldEnv("POD_NAME", "metadata.name"), fieldEnv("POD_NAMESPACE", "metadata.namespace")},
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("http")}},
			PeriodSeconds: 5},
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
			InitialDelaySeconds: 10, PeriodSeconds: 10},
		VolumeMounts: []corev1.VolumeMount{{Name: "certs", MountPath: CertsDir, ReadOnly: true}},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true), RunAsNonRoot: ptr.To(true),
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
	if o.Spec.Resources != nil {
		c.Resources = *o.Spec.Resources.DeepCopy()
	}
	labels := o.Labels(k)
	podAnn := map[string]string{"kafkaplane.io/certs-revision": certRevision}
	spec := corev1.PodSpec{
		ServiceAccountName: o.Name,
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{c},
		Volumes: []corev1.Volume{{Name: "certs", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: v1beta1.EntityOperatorCertsSecretName(o.Name)}}}},
	}
	d := &appsv1.Deployment{ObjectMeta: o.meta(k, o.Name)}
	if t := o.Spec.Template; t != nil {
		if t.Deployment != nil && t.Deployment.Metadata != nil {
			d.Annotations = t.Deployment.Metadata.Annotations
			addLabels(d.Labels, t.Deployment.Metadata.Labels)
		}
		if p := t.Pod; p != nil {
			if p.Metadata != nil {
				addLabels(labels, p.Metadata.Labels)
				for key, v := range p.Metadata.Annotations {
					if _, ours := podAnn[key]; !ours {
						podAnn[key] = v
					}
				}
			}
			spec.Affinity, spec.Tolerations, spec.NodeSelector = p.Affinity, p.Tolerations, p.NodeSelector
			spec.TopologySpreadConstraints, spec.PriorityClassName, spec.ImagePullSecrets = p.TopologySpreadConstraints, p.PriorityClassName, p.ImagePullSecrets
			spec.TerminationGracePeriodSeconds, spec.SchedulerName, spec.HostAliases = p.TerminationGracePeriodSeconds, p.SchedulerName, p.HostAliases
			spec.EnableServiceLinks = p.EnableServiceLinks
			if p.SecurityContext != nil {
				spec.SecurityContext = p.SecurityContext
			}
		}
		if t.Container != nil {
			spec.Containers[0].Env = append(spec.Containers[0].Env, t.Container.Env...)
			if t.Container.SecurityContext != nil {
				spec.Containers[0].SecurityContext = t.Container.SecurityContext
			}
		}
	}
	d.Spec = appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1),
		Selector: &metav1.LabelSelector{MatchLabels: o.Labels(k)},
		// One replica holding a Lease: the old pod goes before the new one starts.
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: podAnn}, Spec: spec},
	}
	return d
}
