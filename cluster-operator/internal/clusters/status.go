package clusters

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/services"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
	"github.com/kafkaplane/kafkaplane/pkg/statuspatch"
	"github.com/kafkaplane/kafkaplane/pkg/version"
)

// ReasonInvalidPool marks a pool whose Kafka does not exist.
const ReasonInvalidPool = v1beta1.ReasonInvalidSpec

// patchKafkaStatus writes a Kafka's status when it differs from the cached one.
func (r *Reconciler) patchKafkaStatus(ctx context.Context, k *v1beta1.Kafka, next v1beta1.KafkaStatus) error {
	if apiequality.Semantic.DeepEqual(next, k.Status) {
		return nil
	}
	body, err := statuspatch.Body(next, "listeners", "nodePools")
	if err != nil {
		return err
	}
	_, err = r.Client.KafkaplaneV1beta1().Kafkas(k.Namespace).Patch(ctx, k.Name, types.MergePatchType, body,
		metav1.PatchOptions{FieldManager: r.Opts.FieldManager}, "status")
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("writing the status of Kafka %s/%s: %w", k.Namespace, k.Name, err)
	}
	k.Status = next
	return nil
}

// setReady sets only the Ready condition (and observedGeneration); warn records an Event when
// the condition is new.
func (r *Reconciler) setReady(ctx context.Context, k *v1beta1.Kafka, status metav1.ConditionStatus, reason, msg string, warn *string) error {
	next := *k.Status.DeepCopy()
	next.ObservedGeneration = k.Generation
	prev := conditions.Find(next.Conditions, v1beta1.ConditionReady)
	isNew := prev == nil || prev.Reason != reason || prev.Message != msg
	conditions.Set(&next.Conditions, conditions.Ready(k.Generation, status, reason, msg))
	if warn != nil && isNew {
		r.Recorder.Eventf(k, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", *warn)
	}
	return r.patchKafkaStatus(ctx, k, next)
}

// invalid reports a spec problem on the Kafka and its pools; nothing else changes.
func (r *Reconciler) invalid(ctx context.Context, k *v1beta1.Kafka, pools []*v1beta1.KafkaNodePool, msg string) error {
	if err := r.setReady(ctx, k, metav1.ConditionFalse, v1beta1.ReasonInvalidSpec, msg, &msg); err != nil {
		return err
	}
	for _, p := range pools {
		if err := r.setPoolReady(ctx, p, metav1.ConditionFalse, v1beta1.ReasonInvalidSpec, "Kafka "+k.Name+": "+msg); err != nil {
			return err
		}
	}
	return nil
}

// orphanPools reports pools naming a Kafka that does not exist.
func (r *Reconciler) orphanPools(ctx context.Context, cluster string, pools []*v1beta1.KafkaNodePool) error {
	for _, p := range pools {
		msg := fmt.Sprintf("no Kafka named %s in namespace %s", cluster, p.Namespace)
		if err := r.setPoolReady(ctx, p, metav1.ConditionFalse, ReasonInvalidPool, msg); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reconciler) patchPoolStatus(ctx context.Context, p *v1beta1.KafkaNodePool, next v1beta1.KafkaNodePoolStatus) error {
	if apiequality.Semantic.DeepEqual(next, p.Status) {
		return nil
	}
	body, err := statuspatch.Body(next, "nodeIds", "roles")
	if err != nil {
		return err
	}
	_, err = r.Client.KafkaplaneV1beta1().KafkaNodePools(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, body,
		metav1.PatchOptions{FieldManager: r.Opts.FieldManager}, "status")
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("writing the status of KafkaNodePool %s/%s: %w", p.Namespace, p.Name, err)
	}
	p.Status = next
	return nil
}

func (r *Reconciler) setPoolReady(ctx context.Context, p *v1beta1.KafkaNodePool, status metav1.ConditionStatus, reason, msg string) error {
	next := *p.Status.DeepCopy()
	next.ObservedGeneration = p.Generation
	conditions.Set(&next.Conditions, conditions.Ready(p.Generation, status, reason, msg))
	return r.patchPoolStatus(ctx, p, next)
}

// recordNodeIDs writes each pool's node IDs before any node is created with them, so that a
// restart of the operator keeps them.
func (r *Reconciler) recordNodeIDs(ctx context.Context, k *v1beta1.Kafka, pools []*v1beta1.KafkaNodePool, ids map[string][]int32) error {
	for _, p := range pools {
		next := *p.Status.DeepCopy()
		next.NodeIDs = ids[p.Name]
		next.Replicas = int32(len(ids[p.Name]))
		next.Roles = slices.Clone(p.Spec.Roles)
		next.LabelSelector = labels.SelectorFromSet(labels.Set{v1beta1.LabelCluster: k.Name, v1beta1.LabelPool: p.Name}).String()
		if err := r.patchPoolStatus(ctx, p, next); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reconciler) recordClusterID(ctx context.Context, k *v1beta1.Kafka, id string) error {
	// Only on the version the ID was found missing in: a reconcile working from a cache that
	// lags behind an ID written meanwhile gets a conflict (and retries from a fresh cache) rather
	// than replacing it, so a cluster never has two IDs.
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"resourceVersion": k.ResourceVersion},
		"status": map[string]any{"clusterId": id}})
	if err != nil {
		return err
	}
	out, err := r.Client.KafkaplaneV1beta1().Kafkas(k.Namespace).Patch(ctx, k.Name, types.MergePatchType, body,
		metav1.PatchOptions{FieldManager: r.Opts.FieldManager}, "status")
	if err != nil {
		return fmt.Errorf("recording the cluster ID of Kafka %s/%s: %w", k.Namespace, k.Name, err)
	}
	k.Status.ClusterID, k.ResourceVersion = id, out.ResourceVersion
	return nil
}

// writeStatus reports the outcome of a reconcile on the Kafka and its pools.
func (r *Reconciler) writeStatus(ctx context.Context, k *v1beta1.Kafka, pools []*v1beta1.KafkaNodePool, p *plan, roll rollState, eo eoState) error {
	pods := r.nodePods(k)
	var waits []string
	waits = append(waits, p.pending...)
	var notReady []string
	why := map[string]string{} // node → why it is not ready
	versions := map[string]bool{}
	for _, np := range p.nodes {
		pod, ok := pods[np.name]
		if !ok || !podReady(pod) {
			notReady = append(notReady, np.name)
			why[np.name] = np.name + " (" + r.notReadyReason(k, np.name, pod) + ")"
			continue
		}
		versions[pod.Annotations[nodes.AnnotationKafkaVersion]] = true
	}
	describe := func(names []string) string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = why[n]
		}
		return "nodes not ready: " + strings.Join(out, ", ")
	}
	if len(notReady) > 0 {
		w := describe(notReady)
		waits = append(waits, w)
		if prev := conditions.Find(k.Status.Conditions, v1beta1.ConditionReady); prev == nil || !strings.Contains(prev.Message, w) {
			r.Recorder.Eventf(k, nil, corev1.EventTypeWarning, "NodesNotReady", "Reconcile", "%s", w)
		}
	}
	if len(roll.stale) > 0 {
		w := "nodes to restart: " + strings.Join(roll.stale, ", ")
		if roll.blocked != "" {
			w += " (" + roll.blocked + ")"
		}
		waits = append(waits, w)
	}
	if len(eo.notReady) > 0 {
		waits = append(waits, "entity operators not available: "+strings.Join(eo.notReady, ", "))
	}
	waits = append(waits, p.warnings...)

	next := *k.Status.DeepCopy()
	next.ObservedGeneration = k.Generation
	next.ClusterID = p.clusterID
	next.RegisteredNodeIDs = p.registered
	next.KafkaMetadataVersion = p.metadataVersion
	next.Listeners = r.listenerStatus(k, p, pods)
	next.NodePools = nil
	for _, pool := range pools {
		next.NodePools = append(next.NodePools, v1beta1.UsedNodePoolStatus{Name: pool.Name})
	}
	sort.Slice(next.NodePools, func(i, j int) bool { return next.NodePools[i].Name < next.NodePools[j].Name })
	if len(versions) == 1 && versions[p.version] && len(notReady) == 0 && len(roll.stale) == 0 && !p.holdVersion {
		next.KafkaVersion = p.version
	}
	ready := len(waits) == 0
	if ready {
		conditions.Set(&next.Conditions, conditions.Ready(k.Generation, metav1.ConditionTrue, v1beta1.ReasonReady, "all nodes and entity operators are ready"))
		next.OperatorLastSuccessfulVersion = version.Version
	} else {
		conditions.Set(&next.Conditions, conditions.Ready(k.Generation, metav1.ConditionFalse, v1beta1.ReasonReconciling, strings.Join(waits, "; ")))
	}
	if prev := conditions.Find(k.Status.Conditions, v1beta1.ConditionReady); p.holdReady && prev != nil {
		conditions.Set(&next.Conditions, *prev)
	}
	r.setWarning(k, &next, p)
	if err := r.patchKafkaStatus(ctx, k, next); err != nil {
		return err
	}
	for _, pool := range pools {
		status, reason, msg := metav1.ConditionTrue, v1beta1.ReasonReady, "all nodes of the pool are ready"
		var down []string
		for _, np := range p.nodes {
			if np.node.Pool == pool.Name && slices.Contains(notReady, np.name) {
				down = append(down, np.name)
			}
		}
		if len(down) > 0 || len(p.nodes) < len(p.all) {
			status, reason, msg = metav1.ConditionFalse, v1beta1.ReasonReconciling, describe(down)
		}
		nextPool := *pool.Status.DeepCopy()
		nextPool.ClusterID = p.clusterID
		nextPool.ObservedGeneration = pool.Generation
		conditions.Set(&nextPool.Conditions, conditions.Ready(pool.Generation, status, reason, msg))
		if err := r.patchPoolStatus(ctx, pool, nextPool); err != nil {
			return err
		}
	}
	return nil
}

// listenerStatus tells clients where each listener is.
func (r *Reconciler) listenerStatus(k *v1beta1.Kafka, p *plan, pods map[string]*corev1.Pod) []v1beta1.ListenerStatus {
	ns := k.Namespace
	caPEM := string(pki.EncodeCerts(p.clusterCA.KeyPair.Cert))
	var out []v1beta1.ListenerStatus
	for _, l := range k.Spec.Kafka.Listeners {
		st := v1beta1.ListenerStatus{Name: l.Name, Type: l.Type}
		var addrs []v1beta1.ListenerAddress
		switch l.Type {
		case v1beta1.ListenerInternal:
			addrs = []v1beta1.ListenerAddress{{Host: v1beta1.BootstrapServiceName(k.Name) + "." + ns + ".svc", Port: l.Port}}
		case v1beta1.ListenerClusterIP:
			addrs = []v1beta1.ListenerAddress{{Host: v1beta1.ListenerBootstrapServiceName(k.Name, l.Name) + "." + ns + ".svc", Port: l.Port}}
		case v1beta1.ListenerLoadBalancer:
			if s := get[corev1.Service](r.Caches.Services, ns, v1beta1.ListenerBootstrapServiceName(k.Name, l.Name)); s != nil {
				for _, in := range s.Status.LoadBalancer.Ingress {
					host := in.Hostname
					if host == "" {
						host = in.IP
					}
					addrs = append(addrs, v1beta1.ListenerAddress{Host: host, Port: l.Port})
				}
			}
		case v1beta1.ListenerIngress:
			addrs = []v1beta1.ListenerAddress{{Host: services.BootstrapHost(l), Port: services.IngressPort}}
		case v1beta1.ListenerNodePort:
			s := get[corev1.Service](r.Caches.Services, ns, v1beta1.ListenerBootstrapServiceName(k.Name, l.Name))
			if s != nil && len(s.Spec.Ports) > 0 && s.Spec.Ports[0].NodePort != 0 {
				seen := map[string]bool{}
				for _, np := range p.nodes {
					if pod, ok := pods[np.name]; ok && np.node.Broker && pod.Status.HostIP != "" && !seen[pod.Status.HostIP] {
						seen[pod.Status.HostIP] = true
						addrs = append(addrs, v1beta1.ListenerAddress{Host: pod.Status.HostIP, Port: s.Spec.Ports[0].NodePort})
					}
				}
				sort.Slice(addrs, func(i, j int) bool { return addrs[i].Host < addrs[j].Host })
			}
		}
		st.Addresses = addrs
		var servers []string
		for _, a := range addrs {
			servers = append(servers, a.Host+":"+strconv.Itoa(int(a.Port)))
		}
		st.BootstrapServers = strings.Join(servers, ",")
		if l.TLS {
			st.Certificates = []string{caPEM}
			if lc, ok := p.listenerCerts[kafkaconfig.ListenerKeystoreFile(l)]; ok {
				st.Certificates = nil
				for _, c := range lc.chain {
					st.Certificates = append(st.Certificates, string(pki.EncodeCerts(c)))
				}
			}
		}
		out = append(out, st)
	}
	return out
}

// setWarning reports what of the spec is in effect but not as asked, in the Warning condition:
// the owned keys of spec.kafka.config the nodes do not get (Strimzi ignores them with a warning
// too), and the advertised host names a listener's own certificate does not cover. The reason
// is the first problem's; an Event goes out when the message changes.
func (r *Reconciler) setWarning(k *v1beta1.Kafka, next *v1beta1.KafkaStatus, p *plan) {
	var reason string
	var msgs []string
	if len(p.ignored) > 0 {
		reason = v1beta1.ReasonIgnoredConfig
		msgs = append(msgs, "spec.kafka.config sets keys the operator owns, which are ignored: "+strings.Join(p.ignored, ", ")+
			" (the operator sets them from the Kafka's fields: listeners, pools, rack, storage)")
	}
	for _, l := range k.Spec.Kafka.Listeners {
		why, ok := p.certificatesNotReady[l.Name]
		if !ok {
			continue
		}
		if reason == "" {
			reason = ReasonCertificateNotReady
		}
		msgs = append(msgs, fmt.Sprintf("listener %s: cert-manager's Certificate %s is not ready (%s); the brokers keep serving the certificate its Secret holds",
			l.Name, v1beta1.ListenerCertificateName(k.Name, l.Name), why))
	}
	for _, l := range k.Spec.Kafka.Listeners {
		hosts := p.uncoveredHosts[l.Name]
		if len(hosts) == 0 {
			continue
		}
		if reason == "" {
			reason = v1beta1.ReasonCertificateNames
		}
		msgs = append(msgs, fmt.Sprintf("listener %s: the certificate in Secret %s does not cover %s, which the brokers advertise; clients that verify host names (Kafka's default) refuse them",
			l.Name, listenerCertSource(k, l).SecretName, strings.Join(slices.Sorted(slices.Values(hosts)), ", ")))
	}
	if len(msgs) == 0 {
		meta.RemoveStatusCondition(&next.Conditions, v1beta1.ConditionWarning)
		return
	}
	msg := strings.Join(msgs, "; ")
	if prev := conditions.Find(k.Status.Conditions, v1beta1.ConditionWarning); prev == nil || prev.Message != msg {
		r.Recorder.Eventf(k, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", msg)
	}
	conditions.Set(&next.Conditions, metav1.Condition{Type: v1beta1.ConditionWarning, Status: metav1.ConditionTrue,
		Reason: reason, Message: msg, ObservedGeneration: k.Generation})
}
