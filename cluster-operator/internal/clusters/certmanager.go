package clusters

import (
	"context"
	"fmt"
	"net"
	"slices"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// cert-manager's resources, used through the dynamic client: the operator does not link
// cert-manager's types.
var (
	certificateGVR = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
	issuerGVR      = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "issuers"}
)

// ReasonCertificateNotReady: cert-manager has not issued a listener's certificate yet; the
// message carries cert-manager's own reason (the Certificate's, or its Issuer's).
const ReasonCertificateNotReady = "CertificateNotReady"

// waitError stops a reconcile before anything is written because something outside the operator
// is not ready yet: Ready=False with its reason, and the cluster is queued again soon.
type waitError struct{ reason, msg string }

func (e *waitError) Error() string { return e.msg }

// listenerHosts are the hosts a listener's certificate must cover: its bootstrap (internal and
// cluster-ip listeners' service names) and each broker's advertised host, where known.
func (r *Reconciler) listenerHosts(k *v1beta1.Kafka, l v1beta1.GenericKafkaListener, all []nodes.Node) []string {
	var hosts []string
	add := func(h string) {
		if h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	switch l.Type {
	case v1beta1.ListenerInternal:
		add(v1beta1.BootstrapServiceName(k.Name) + "." + k.Namespace + ".svc")
		add(v1beta1.BootstrapServiceName(k.Name) + "." + k.Namespace + ".svc.cluster.local")
	case v1beta1.ListenerClusterIP:
		add(v1beta1.ListenerBootstrapServiceName(k.Name, l.Name) + "." + k.Namespace + ".svc")
	}
	for _, n := range all {
		if !n.Broker {
			continue
		}
		external, _ := r.externalAddresses(k, n)
		addr, err := kafkaconfig.AdvertisedAddress(kafkaconfig.Input{Cluster: k.Name, Namespace: k.Namespace, Node: n.Node,
			Listeners: k.Spec.Kafka.Listeners, External: external}, l)
		if err == nil {
			add(addr.Host)
		}
	}
	return hosts
}

// certificate is the cert-manager Certificate of a listener with configuration.certManager.
func certificate(k *v1beta1.Kafka, l v1beta1.GenericKafkaListener, hosts []string) *unstructured.Unstructured {
	cm := l.Configuration.CertManager
	name := v1beta1.ListenerCertificateName(k.Name, l.Name)
	ref := map[string]any{"name": cm.IssuerRef.Name}
	if cm.IssuerRef.Kind != "" {
		ref["kind"] = cm.IssuerRef.Kind
	}
	if cm.IssuerRef.Group != "" {
		ref["group"] = cm.IssuerRef.Group
	}
	var dns, ips []any
	for _, h := range hosts {
		if net.ParseIP(h) != nil {
			ips = append(ips, h)
		} else {
			dns = append(dns, h)
		}
	}
	spec := map[string]any{
		"secretName": name,
		"issuerRef":  ref,
		"commonName": hosts[0],
		"dnsNames":   dns,
		"usages":     []any{"server auth", "digital signature", "key encipherment"},
		// A new key at each renewal; PKCS#8, which Kafka's PEM keystore reads.
		"privateKey": map[string]any{"algorithm": "ECDSA", "size": int64(256), "encoding": "PKCS8", "rotationPolicy": "Always"},
	}
	if len(dns) == 0 {
		delete(spec, "dnsNames")
	}
	if len(ips) > 0 {
		spec["ipAddresses"] = ips
	}
	if cm.Duration != nil {
		spec["duration"] = cm.Duration.Duration.String()
	}
	if cm.RenewBefore != nil {
		spec["renewBefore"] = cm.RenewBefore.Duration.String()
	}
	owner := ownerRef(k)
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"name": name, "namespace": k.Namespace,
			"labels": map[string]any{v1beta1.LabelCluster: k.Name}},
		"spec": spec,
	}}
	if o, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&owner); err == nil {
		u.SetOwnerReferences(nil)
		_ = unstructured.SetNestedSlice(u.Object, []any{o}, "metadata", "ownerReferences")
	}
	return u
}

// applyCertificate makes the listener's Certificate what the spec asks for. A Certificate of
// that name that the operator does not own is left alone: a spec error.
// It returns the Certificate as the API server has it.
func (r *Reconciler) applyCertificate(ctx context.Context, k *v1beta1.Kafka, want *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if r.CertManager == nil {
		return nil, specErrorf("configuration.certManager: this operator has no client for cert-manager's resources")
	}
	certs := r.CertManager.Resource(certificateGVR).Namespace(k.Namespace)
	cur, err := certs.Get(ctx, want.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		created, err := certs.Create(ctx, want, metav1.CreateOptions{FieldManager: r.Opts.FieldManager})
		if err != nil {
			if meta := apierrors.ReasonForError(err); meta == metav1.StatusReasonNotFound {
				return nil, specErrorf("configuration.certManager: the API server has no cert-manager Certificates (is cert-manager installed?): %v", err)
			}
			return nil, fmt.Errorf("creating Certificate %s: %w", want.GetName(), err)
		}
		klog.FromContext(ctx).Info("Created a cert-manager Certificate for a listener", "certificate", want.GetName())
		return created, nil
	}
	if err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
			return nil, specErrorf("configuration.certManager: the API server has no cert-manager Certificates (is cert-manager installed?): %v", err)
		}
		return nil, fmt.Errorf("reading Certificate %s: %w", want.GetName(), err)
	}
	if !ownedBy(cur, k) {
		return nil, specErrorf("configuration.certManager: Certificate %s exists and is not this Kafka's; it is left alone", want.GetName())
	}
	if apiequality.Semantic.DeepEqual(cur.Object["spec"], want.Object["spec"]) {
		return cur, nil
	}
	cur.Object["spec"] = want.Object["spec"]
	updated, err := certs.Update(ctx, cur, metav1.UpdateOptions{FieldManager: r.Opts.FieldManager})
	if err != nil {
		return nil, fmt.Errorf("updating Certificate %s: %w", want.GetName(), err)
	}
	klog.FromContext(ctx).Info("Updated a listener's cert-manager Certificate", "certificate", want.GetName())
	return updated, nil
}

func ownedBy(u *unstructured.Unstructured, k *v1beta1.Kafka) bool {
	for _, o := range u.GetOwnerReferences() {
		if o.UID == k.UID {
			return true
		}
	}
	return false
}

// notIssued is why a listener's Certificate has no Secret yet: cert-manager's own reason, the
// Issuer's when it is not Ready (a missing issuer, or one whose CA Secret is missing), else the
// Certificate's.
func (r *Reconciler) notIssued(ctx context.Context, k *v1beta1.Kafka, l v1beta1.GenericKafkaListener) error {
	name := v1beta1.ListenerCertificateName(k.Name, l.Name)
	ref := l.Configuration.CertManager.IssuerRef
	what := fmt.Sprintf("listener %s: cert-manager has not issued Certificate %s yet", l.Name, name)
	if ref.Kind == "" || ref.Kind == "Issuer" {
		iss, err := r.CertManager.Resource(issuerGVR).Namespace(k.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return &waitError{reason: "IssuerNotFound", msg: fmt.Sprintf("%s: Issuer %s not found", what, ref.Name)}
		case err == nil:
			if status, reason, msg := readyCondition(iss); status != "True" {
				if reason == "" {
					reason = ReasonCertificateNotReady
				}
				return &waitError{reason: reason, msg: fmt.Sprintf("%s: Issuer %s is not ready: %s", what, ref.Name, msg)}
			}
		}
	}
	reason, msg := ReasonCertificateNotReady, "no status yet"
	if c, err := r.CertManager.Resource(certificateGVR).Namespace(k.Namespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
		if _, rs, m := readyCondition(c); m != "" {
			msg = m
			if rs != "" {
				reason = rs
			}
		}
	}
	return &waitError{reason: reason, msg: fmt.Sprintf("%s: %s", what, msg)}
}

// readyCondition is the Ready condition of a cert-manager object.
func readyCondition(u *unstructured.Unstructured) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" {
			status, _ = m["status"].(string)
			reason, _ = m["reason"].(string)
			message, _ = m["message"].(string)
		}
	}
	return status, reason, message
}
