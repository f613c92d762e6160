package clusters

import (
	"context"
	"fmt"
	"maps"
	"net"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/apply"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/certs"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/entityops"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/services"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// plan is a cluster's desired state.
type plan struct {
	// holdReady keeps the Ready condition as it is: the reconcile went on without one of
	// Kafka's answers (see reconcile).
	holdReady            bool
	clusterID            string
	version, image       string
	clusterCA, clientsCA *pki.CA
	ids                  map[string][]int32
	// all are every node the pools ask for; nodes are those planned (not pending).
	all   []nodes.Node
	nodes []nodePlan
	// pending are nodes whose configuration cannot be rendered yet (an external address not
	// assigned), with why.
	pending []string
	// warnings are problems that change nothing but the status (a PVC that cannot shrink).
	warnings []string
	// ignored are the owned keys of spec.kafka.config left out of the nodes' configuration.
	ignored []string
	// recheck: something waits on Kafka, not on an event (a voter the leader stops hearing
	// from): reconcile again soon.
	recheck bool
	// metadataVersion is the metadata.version Kafka has finalized, as far as known.
	metadataVersion string
	// registered: the node IDs that may still be registered in Kafka's metadata.
	registered []int32
	renewAt    time.Time
	// issued counts certificates issued in this reconcile.
	issued int
	// metricsConfig is the content of the JMX exporter configuration the Kafka names.
	metricsConfig string
	// logging is what spec.kafka.logging gives the nodes.
	logging nodeLogging
	// removableControllers are controllers a pool no longer has that have left the quorum.
	removableControllers map[int32]bool
	// holdVersion: the status keeps its Kafka version (an upgrade is not finished).
	holdVersion bool
	// keepOldKey: some node does not trust the current cluster CA key yet.
	keepOldKey bool
	// listenerCerts are the listeners' own server certificates (configuration.
	// brokerCertChainAndKey), by keystore file name.
	listenerCerts map[string]listenerCert
	// certificatesNotReady are, by listener, why its cert-manager Certificate is not Ready while
	// its Secret still holds an earlier certificate.
	certificatesNotReady map[string]string
	// uncoveredHosts are, by listener, the advertised hosts its own certificate does not cover.
	uncoveredHosts map[string][]string
	// clientsTrusted is the newest clients CA key generation every node trusts, as published
	// on the clients CA cert Secret (pki.AnnotationTrustedKeyGeneration).
	clientsTrusted int
}

// nodePlan is one node's desired objects.
type nodePlan struct {
	node      nodes.Node
	name      string
	secret    *corev1.Secret
	configMap *corev1.ConfigMap
	claims    []*corev1.PersistentVolumeClaim
	pod       *corev1.Pod
}

// NodesPrincipal is the Kafka principal of a cluster's nodes (inter-broker and quorum traffic).
func NodesPrincipal(cluster string) string { return entityops.Principal(NodesCommonName(cluster)) }

// NodesCommonName is the subject CN of the nodes' certificates.
func NodesCommonName(cluster string) string { return cluster + "-kafka" }

// ClusterOperatorName names the cluster operator's client certificate for a cluster.
func ClusterOperatorName(cluster string) string { return cluster + "-cluster-operator" }

func (r *Reconciler) plan(ctx context.Context, k *v1beta1.Kafka, pools []*v1beta1.KafkaNodePool) (*plan, error) {
	p := &plan{version: k.Spec.Kafka.Version, warnings: unsupportedListenerSettings(k), ignored: kafkaconfig.Ignored(k.Spec.Kafka.Config)}
	if p.version == "" {
		p.version = DefaultKafkaVersion
	}
	p.image = k.Spec.Kafka.Image
	if p.image == "" {
		p.image = "apache/kafka:" + p.version
	}
	var err error
	if p.clusterCA, _, err = r.reconcileCA(ctx, k, certs.ClusterCA); err != nil {
		return nil, err
	}
	if p.clientsCA, p.clientsTrusted, err = r.reconcileCA(ctx, k, certs.ClientsCA); err != nil {
		return nil, err
	}
	p.renewAt = earliest(p.clusterCA.RenewAt, p.clientsCA.RenewAt)
	r.recordExpiry(k.Namespace, k.Name, string(certs.ClusterCA), pki.EncodeCerts(p.clusterCA.KeyPair.Cert))
	r.recordExpiry(k.Namespace, k.Name, string(certs.ClientsCA), pki.EncodeCerts(p.clientsCA.KeyPair.Cert))
	if p.ids, err = r.assignIDs(k, pools); err != nil {
		return nil, specErrorf("node IDs: %v", err)
	}
	if err := r.recordNodeIDs(ctx, k, pools, p.ids); err != nil {
		return nil, err
	}
	id, fresh, err := r.clusterID(k)
	if err != nil {
		return nil, err
	}
	p.clusterID = id
	if fresh {
		// Recorded before any node is formatted with it.
		if err := r.recordClusterID(ctx, k, id); err != nil {
			return nil, err
		}
	}
	if p.metricsConfig, err = r.metricsConfig(ctx, k); err != nil {
		return nil, err
	}
	if p.logging, err = r.planLogging(ctx, k); err != nil {
		return nil, err
	}
	all := nodesOf(pools, p.ids)
	p.all = all
	if p.listenerCerts, p.certificatesNotReady, err = r.listenerCerts(ctx, k, all); err != nil {
		return nil, err
	}
	p.keepOldKey = !r.allTrust(k, p.clusterCA.KeyGeneration)
	controllers := controllersOf(all)
	clusterSpec, _ := certs.CAConfig(k, certs.ClusterCA)
	principals := []string{NodesPrincipal(k.Name), entityops.Principal(ClusterOperatorName(k.Name)),
		entityops.Principal(v1beta1.EntityTopicOperatorName(k.Name)), entityops.Principal(v1beta1.EntityUserOperatorName(k.Name))}
	for _, n := range all {
		np, why, err := r.planNode(k, p, n, controllers, principals, clusterSpec.Validity, clusterSpec.Renew)
		if err != nil {
			return nil, err
		}
		if why != "" {
			p.pending = append(p.pending, why)
			continue
		}
		p.nodes = append(p.nodes, np)
	}
	return p, nil
}

func earliest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if !t.IsZero() && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	return out
}

// reconcileCA creates, renews or re-keys a CA and writes its Secrets; a user-provided CA is
// read (it carries none of our labels, so it is not cached) and only checked. It also returns the
// newest key generation every node trusts (for the clients CA; see publishClientsTrust).
func (r *Reconciler) reconcileCA(ctx context.Context, k *v1beta1.Kafka, kind certs.CAKind) (*pki.CA, int, error) {
	spec, _ := certs.CAConfig(k, kind)
	certName, keyName := certs.SecretNames(k.Name, kind)
	cert, key := get[corev1.Secret](r.Caches.Secrets, k.Namespace, certName), get[corev1.Secret](r.Caches.Secrets, k.Namespace, keyName)
	if !spec.Generate {
		var err error
		if cert, err = r.getSecret(ctx, k.Namespace, certName); err != nil {
			return nil, 0, err
		}
		if key, err = r.getSecret(ctx, k.Namespace, keyName); err != nil {
			return nil, 0, err
		}
		ca, err := certs.Reconcile(k, kind, cert, key, r.now())
		if err != nil {
			return nil, 0, specErrorf("%s: %v", kind, err)
		}
		return ca, ca.KeyGeneration, nil
	}
	if cert == nil || key == nil {
		// The cache misses one: never create a CA on that alone (a lagging cache, or a Secret
		// whose label was removed, would have a new CA forced over the one every node and client
		// trusts). Read both from the API server.
		var err error
		if cert, key, err = r.liveCA(ctx, k, kind, certName, keyName); err != nil {
			return nil, 0, err
		}
	}
	ca, err := certs.Reconcile(k, kind, cert, key, r.now())
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", kind, err)
	}
	changing := ca.Action == "Renewed" || ca.Action == "KeyReplaced"
	if changing {
		// The CA itself changes: decided on what the API server holds now, never on a cached
		// read that may lag (a key replaced twice from one stale read would leave the
		// certificates issued under the first new key unverifiable).
		if cert, key, ca, err = r.changeCA(ctx, k, kind, certName, keyName); err != nil {
			return nil, 0, err
		}
	}
	// The key generation the nodes trust: all of it for a new CA (no node runs yet); after a key
	// replacement the one published before it (the previous key's, when nothing was published),
	// until publishClientsTrust sees every node trust the new key.
	trusted := ca.KeyGeneration
	if ca.Action != "Created" && cert != nil {
		prev := certs.State(cert, key).KeyGeneration
		trusted = min(pki.TrustedKeyGeneration(cert.Annotations, prev), ca.KeyGeneration)
	}
	wantCert, wantKey := certs.CASecrets(k, kind, ca, trusted)
	if changing && cert != nil && key != nil {
		wantCert.ResourceVersion, wantKey.ResourceVersion = cert.ResourceVersion, key.ResourceVersion
	}
	// The key first: a cert Secret naming a key generation that is not stored yet would be wrong.
	if _, err := apply.Apply(ctx, r.Kube.CoreV1().Secrets(k.Namespace), wantKey, key, r.Opts.FieldManager); err != nil {
		return nil, 0, err
	}
	if _, err := apply.Apply(ctx, r.Kube.CoreV1().Secrets(k.Namespace), wantCert, cert, r.Opts.FieldManager); err != nil {
		return nil, 0, err
	}
	if ca.Action != "" {
		r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "CA"+ca.Action, "Reconcile", "%s certificate %s", kind, strings.ToLower(ca.Action))
	}
	return ca, trusted, nil
}

// changeCA recomputes a CA whose certificate or key is due to change from its Secrets as the API
// server holds them, and clears a force-renew or force-replace request it carries out. The
// clearing patch is conditional on the Secret's resourceVersion, and the change is applied
// conditional on the result: a concurrent change fails the reconcile, which starts over.
func (r *Reconciler) changeCA(ctx context.Context, k *v1beta1.Kafka, kind certs.CAKind, certName, keyName string) (*corev1.Secret, *corev1.Secret, *pki.CA, error) {
	cert, key, err := r.liveCA(ctx, k, kind, certName, keyName)
	if err != nil {
		return nil, nil, nil, err
	}
	ca, err := certs.Reconcile(k, kind, cert, key, r.now())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", kind, err)
	}
	if ca.Action != "Renewed" && ca.Action != "KeyReplaced" {
		return cert, key, ca, nil
	}
	clear := func(s *corev1.Secret, annotation string) (*corev1.Secret, error) {
		if s == nil {
			return s, nil
		}
		if _, ok := s.Annotations[annotation]; !ok {
			return s, nil
		}
		patch := fmt.Appendf(nil, `{"metadata":{"resourceVersion":%q,"annotations":{%q:null}}}`, s.ResourceVersion, annotation)
		out, err := r.Kube.CoreV1().Secrets(s.Namespace).Patch(ctx, s.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: r.Opts.FieldManager})
		if err != nil {
			return nil, fmt.Errorf("%s: clearing %s on %s: %w", kind, annotation, s.Name, err)
		}
		return out, nil
	}
	if cert, err = clear(cert, v1beta1.AnnotationForceRenew); err != nil {
		return nil, nil, nil, err
	}
	if key, err = clear(key, v1beta1.AnnotationForceReplace); err != nil {
		return nil, nil, nil, err
	}
	return cert, key, ca, nil
}

// liveCA reads a generated CA's two Secrets from the API server. Secrets that exist must be ours
// (labelled as the cluster operator labels them) and hold their keys; either both exist or
// neither does. Anything else is a conflict the user resolves: the operator creates a CA only
// where neither Secret exists.
func (r *Reconciler) liveCA(ctx context.Context, k *v1beta1.Kafka, kind certs.CAKind, certName, keyName string) (*corev1.Secret, *corev1.Secret, error) {
	cert, err := r.getSecret(ctx, k.Namespace, certName)
	if err != nil {
		return nil, nil, err
	}
	key, err := r.getSecret(ctx, k.Namespace, keyName)
	if err != nil {
		return nil, nil, err
	}
	for _, s := range []struct {
		secret   *corev1.Secret
		name, at string
	}{{cert, certName, pki.CACertKey}, {key, keyName, pki.CAKeyKey}} {
		switch {
		case s.secret == nil:
		case s.secret.Labels[v1beta1.LabelKind] != v1beta1.KindKafka || s.secret.Labels[v1beta1.LabelCluster] != k.Name:
			return nil, nil, specErrorf("%s: the Secret %s exists but was not made by the cluster operator (it lacks the labels %s=%s, %s=%s); "+
				"nothing was written: label it, delete it, or provide the CA yourself (generateCertificateAuthority: false)",
				kind, s.name, v1beta1.LabelKind, v1beta1.KindKafka, v1beta1.LabelCluster, k.Name)
		case len(s.secret.Data[s.at]) == 0:
			return nil, nil, specErrorf("%s: the Secret %s has no %s; nothing was written: delete both CA Secrets to have a new CA created "+
				"(every node and client certificate is then re-issued)", kind, s.name, s.at)
		}
	}
	if (cert == nil) != (key == nil) {
		return nil, nil, specErrorf("%s: only one of the Secrets %s and %s exists; nothing was written: restore the other, or delete both to have a new CA created",
			kind, certName, keyName)
	}
	return cert, key, nil
}

func (r *Reconciler) getSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	s, err := r.Kube.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Secret %s/%s: %w", namespace, name, err)
	}
	return s, nil
}

// planNode computes one node's certificate Secret, ConfigMap, claims and pod; why is set when
// its configuration cannot be rendered yet.
func (r *Reconciler) planNode(k *v1beta1.Kafka, p *plan, n nodes.Node, controllers []kafkaconfig.Node, principals []string,
	validity, renew time.Duration) (nodePlan, string, error) {
	name := n.Name(k.Name)
	np := nodePlan{node: n, name: name}
	external, why := r.externalAddresses(k, n)
	if why != "" {
		return np, why, nil
	}
	in := kafkaconfig.Input{Cluster: k.Name, Namespace: k.Namespace, Node: n.Node, Controllers: controllers,
		Listeners: k.Spec.Kafka.Listeners, External: external, Authorization: k.Spec.Kafka.Authorization,
		OperatorPrincipals: principals, Storage: n.PoolSpec.Spec.Storage, UserConfig: k.Spec.Kafka.Config}
	props, err := kafkaconfig.Render(in)
	if err != nil {
		return np, "", specErrorf("node %s: %v", name, err)
	}
	// What rolls the node: the configuration without the keys Kafka changes at runtime.
	static, _ := kafkaconfig.SplitDynamic(k.Spec.Kafka.Config)
	staticProps, err := kafkaconfig.Render(kafkaconfig.Input{Cluster: k.Name, Namespace: k.Namespace, Node: n.Node, Controllers: controllers,
		Listeners: k.Spec.Kafka.Listeners, External: external, Authorization: k.Spec.Kafka.Authorization,
		OperatorPrincipals: principals, Storage: n.PoolSpec.Spec.Storage, UserConfig: static})
	if err != nil {
		return np, "", specErrorf("node %s: %v", name, err)
	}
	current := get[corev1.Secret](r.Caches.Secrets, k.Namespace, name)
	leaf := certs.Leaf{Secret: name, Namespace: k.Namespace, Labels: nodes.Labels(k.Name, n), Owner: ownerRef(k),
		Leaf: pki.Leaf{CommonName: NodesCommonName(k.Name), Organization: certs.Organization, Server: true, Client: true, Validity: validity}}
	for _, san := range r.nodeSANs(k, n) {
		if ip := net.ParseIP(san); ip != nil {
			leaf.Leaf.IPs = append(leaf.Leaf.IPs, ip)
		} else {
			leaf.Leaf.DNSNames = append(leaf.Leaf.DNSNames, san)
		}
	}
	secret, issued, err := certs.NodeSecret(leaf, p.clusterCA, p.clientsCA, renew, current, p.keepOldKey, r.now())
	if err != nil {
		return np, "", fmt.Errorf("node %s certificate: %w", name, err)
	}
	if issued {
		p.issued++
	}
	if n.Broker {
		for file, lc := range p.listenerCerts {
			secret.Data[file] = lc.keystore
		}
		p.checkCertificateNames(k, in)
	}
	p.renewAt = earliest(p.renewAt, certs.RenewAt(secret, certs.NodeCertKey, renew))
	np.secret = secret
	r.recordSecretExpiry(secret, k.Name, certs.NodeCertKey)

	clusterID, format := p.clusterID, r.formatArgs(k, p, n, controllers)
	if cm := get[corev1.ConfigMap](r.Caches.ConfigMaps, k.Namespace, name); cm != nil && cm.Data[nodes.ClusterIDKey] != "" {
		// A node keeps the identity it was formatted with.
		clusterID, format = cm.Data[nodes.ClusterIDKey], cm.Data[nodes.FormatArgsKey]
	}
	np.configMap = nodes.ConfigMap(k, n, props, clusterID, format, p.logging.properties)

	if np.claims, err = nodes.Claims(k, n); err != nil {
		return np, "", specErrorf("%v", err)
	}
	if err := storageUnchanged(r.nodePods(k)[name], n, k.Name); err != nil {
		return np, "", err
	}
	pod := nodes.Pod(k, n, nodes.PodOptions{Image: p.image, Version: p.version, ServiceAccount: serviceAccountName(k),
		ClusterCAKeyGeneration: p.clusterCA.KeyGeneration, Metrics: r.Opts.Metrics})
	// A listener's own certificate rolls the node only when its identity changes: a renewal is
	// reloaded at runtime (applyListenerCerts).
	hashed := secret.Data
	if n.Broker && len(p.listenerCerts) > 0 {
		hashed = maps.Clone(secret.Data)
		for file, lc := range p.listenerCerts {
			hashed[file] = []byte(lc.identity())
		}
	}
	parts := []any{pod.Spec, pod.Labels, staticProps, hashed, p.metricsConfig}
	if l := p.logging.rollsOn(n); l != "" {
		// Only when set: the revision of a cluster without it stays what it was.
		parts = append(parts, l)
	}
	rev, err := apply.Hash(parts)
	if err != nil {
		return np, "", err
	}
	pod.Annotations[nodes.AnnotationRevision] = rev
	np.pod = pod
	return np, "", nil
}

// formatArgs are a new node's storage format arguments. Controllers created with the cluster
// share one --initial-controllers list; it is read back from the ConfigMaps already written, so
// that a reconcile interrupted halfway gives the remaining initial controllers the same list.
func (r *Reconciler) formatArgs(k *v1beta1.Kafka, p *plan, n nodes.Node, controllers []kafkaconfig.Node) string {
	sawController := false
	for _, cm := range list[corev1.ConfigMap](r.Caches.ConfigMaps, k.Namespace, clusterSelector(k.Name)) {
		if cm.Labels[v1beta1.LabelControllerRole] != "true" {
			continue
		}
		sawController = true
		args := cm.Data[nodes.FormatArgsKey]
		if n.Controller && strings.Contains(args, "--initial-controllers") && strings.Contains(args, fmt.Sprintf("%d@", n.ID)) {
			if containsVoter(args, n.ID) {
				return args
			}
		}
	}
	return nodes.FormatArgs(k.Name, k.Namespace, p.clusterID, n, controllers, !sawController, k.Spec.Kafka.MetadataVersion)
}

func containsVoter(args string, id int32) bool {
	for _, f := range strings.FieldsFunc(args, func(r rune) bool { return r == ' ' || r == ',' }) {
		if strings.HasPrefix(f, fmt.Sprintf("%d@", id)) {
			return true
		}
	}
	return false
}

// nodeSANs are the names a node's certificate covers: its own DNS names, the bootstrap and
// brokers Services, its external Services and addresses.
func (r *Reconciler) nodeSANs(k *v1beta1.Kafka, n nodes.Node) []string {
	ns := k.Namespace
	variants := func(host string) []string {
		return []string{host, host + "." + ns, host + "." + ns + ".svc", host + "." + ns + ".svc.cluster.local"}
	}
	var out []string
	out = append(out, variants(n.Name(k.Name)+"."+v1beta1.BrokersServiceName(k.Name))...)
	out = append(out, variants(v1beta1.BootstrapServiceName(k.Name))...)
	out = append(out, variants(v1beta1.BrokersServiceName(k.Name))...)
	for _, l := range k.Spec.Kafka.Listeners {
		if l.Type == v1beta1.ListenerInternal || !n.Broker {
			continue
		}
		out = append(out, variants(v1beta1.ListenerBootstrapServiceName(k.Name, l.Name))...)
		out = append(out, variants(v1beta1.PerBrokerServiceName(k.Name, n.Pool, l.Name, n.ID))...)
		if l.Type == v1beta1.ListenerIngress {
			out = append(out, services.BootstrapHost(l), services.BrokerHost(k.Name, l, n))
		}
		if c := l.Configuration; c != nil {
			if c.Bootstrap != nil {
				out = append(out, c.Bootstrap.AlternativeNames...)
			}
			if host := c.AdvertisedHost(n.ID, n.Name(k.Name)); host != "" {
				out = append(out, host)
			}
		}
		for _, name := range []string{v1beta1.ListenerBootstrapServiceName(k.Name, l.Name), v1beta1.PerBrokerServiceName(k.Name, n.Pool, l.Name, n.ID)} {
			if s := get[corev1.Service](r.Caches.Services, ns, name); s != nil {
				for _, in := range s.Status.LoadBalancer.Ingress {
					if in.Hostname != "" {
						out = append(out, in.Hostname)
					}
					if in.IP != "" {
						out = append(out, in.IP)
					}
				}
			}
		}
	}
	return dedupe(out)
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// allTrust reports whether every node pod of the cluster was created trusting the cluster CA key
// generation gen.
func (r *Reconciler) allTrust(k *v1beta1.Kafka, gen int) bool {
	for _, pod := range r.nodePods(k) {
		if pki.ParseGeneration(pod.Annotations, nodes.AnnotationClusterCAKeyGeneration) < gen {
			return false
		}
	}
	return true
}

// storageUnchanged refuses a change of a running node's storage type (ephemeral ↔ persistent),
// which would lose or strand its data: the spec is reported, nothing changes.
func storageUnchanged(pod *corev1.Pod, n nodes.Node, cluster string) error {
	if pod == nil {
		return nil
	}
	running := map[string]bool{} // volume name → persistent
	for _, v := range pod.Spec.Volumes {
		running[v.Name] = v.PersistentVolumeClaim != nil
	}
	for _, d := range nodes.DataVolumes(cluster, n) {
		persistent, ok := running[d.Volume]
		if ok && persistent != (d.Claim != "") {
			return specErrorf("pool %s: node %s runs with %s storage on volume %s; changing the storage type is not supported (create a new pool and move the data)",
				n.Pool, pod.Name, map[bool]string{true: "persistent-claim", false: "ephemeral"}[persistent], d.Volume)
		}
	}
	return nil
}

// metricsConfig reads the JMX exporter configuration a Kafka names (a user ConfigMap, read when
// needed, not cached); its content is part of what rolls the nodes.
func (r *Reconciler) metricsConfig(ctx context.Context, k *v1beta1.Kafka) (string, error) {
	mc := k.Spec.Kafka.MetricsConfig
	if mc == nil {
		return "", nil
	}
	if r.Opts.Metrics == nil {
		return "", specErrorf("spec.kafka.metricsConfig needs a JMX exporter, and this operator has none configured (--jmx-exporter-image)")
	}
	ref := mc.ValueFrom.ConfigMapKeyRef
	cm, err := r.Kube.CoreV1().ConfigMaps(k.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", specErrorf("spec.kafka.metricsConfig: ConfigMap %s not found", ref.Name)
	}
	if err != nil {
		return "", fmt.Errorf("reading ConfigMap %s/%s: %w", k.Namespace, ref.Name, err)
	}
	v, ok := cm.Data[ref.Key]
	if !ok {
		return "", specErrorf("spec.kafka.metricsConfig: ConfigMap %s has no key %s", ref.Name, ref.Key)
	}
	return v, nil
}
