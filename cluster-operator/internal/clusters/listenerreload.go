package clusters

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// KeystoreReloader reads the certificate a node's listener serves and asks a broker to reload
// its listener keystores from their files.
type KeystoreReloader interface {
	Served(ctx context.Context, k *v1beta1.Kafka, addr string) ([]byte, error)
	Reload(ctx context.Context, k *v1beta1.Kafka, id int32, key string) error
}

// servedMemo remembers, by cluster, pod UID and keystore file, the keystore a pod was seen
// serving, so that a broker is asked (a TLS handshake with each listener) only after its keystore
// changed. One memo serves every cluster of the reconciler.
type servedMemo struct {
	mu sync.Mutex
	m  map[string][32]byte
	// asked: the keystores a pod was asked to reload, so that the Event is not repeated while
	// the kubelet has not updated the file.
	asked map[string][32]byte
}

// ask records a reload request and says whether it is the first for this keystore.
func (s *servedMemo) ask(key string, sum [32]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.asked == nil {
		s.asked = map[string][32]byte{}
	}
	first := s.asked[key] != sum
	s.asked[key] = sum
	return first
}

func (s *servedMemo) seen(key string, sum [32]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key] == sum
}

func (s *servedMemo) record(key string, sum [32]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][32]byte{}
	}
	s.m[key] = sum
}

// memoKey is the memo's key of a pod's keystore file in a cluster.
func memoKey(cluster string, pod *corev1.Pod, file string) string {
	return cluster + "|" + string(pod.UID) + "/" + pod.Name + "/" + file
}

// forget drops the entries of cluster's pods that are gone (live: the UIDs of those that are
// not); other clusters' entries stay.
func (s *servedMemo) forget(cluster string, live map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []map[string][32]byte{s.m, s.asked} {
		for k := range m {
			c, rest, _ := strings.Cut(k, "|")
			if uid, _, _ := strings.Cut(rest, "/"); c == cluster && !live[uid] {
				delete(m, k)
			}
		}
	}
}

// applyListenerCerts makes every running broker serve the current certificate of each listener
// with configuration.brokerCertChainAndKey. A certificate with the identity the broker started
// with (a renewal) does not change the node's revision, so no roll brings it: the node Secret
// carries it, the kubelet updates the mounted file (within its sync period), and the broker is
// asked to reload its keystores until it serves it. A certificate with another identity has
// rolled the node instead (see listenerCert.identity).
func (r *Reconciler) applyListenerCerts(ctx context.Context, k *v1beta1.Kafka, p *plan) {
	if r.Keystores == nil || len(p.listenerCerts) == 0 || len(p.pending) > 0 {
		return
	}
	pods := r.nodePods(k)
	live := map[string]bool{}
	for _, pod := range pods {
		live[string(pod.UID)] = true
	}
	cluster := k.Namespace + "/" + k.Name
	r.served.forget(cluster, live)
	var reloaded, waiting []string
	for _, np := range p.nodes {
		pod, ok := pods[np.name]
		if !np.node.Broker || !ok || !podReady(pod) || pod.Annotations[nodes.AnnotationRevision] != np.pod.Annotations[nodes.AnnotationRevision] {
			// Not up, or about to roll: it reads the files when it starts.
			continue
		}
		for _, l := range k.Spec.Kafka.Listeners {
			lc, ok := p.listenerCerts[kafkaconfig.ListenerKeystoreFile(l)]
			if !ok {
				continue
			}
			memo := memoKey(cluster, pod, kafkaconfig.ListenerKeystoreFile(l))
			sum := sha256.Sum256(lc.keystore)
			if r.served.seen(memo, sum) {
				continue
			}
			addr := fmt.Sprintf("%s:%d", kafkaconfig.NodeHost(k.Name, k.Namespace, np.node.Node, false), l.Port)
			served, err := r.Keystores.Served(ctx, k, addr)
			if err != nil {
				p.warnings = append(p.warnings, fmt.Sprintf("listener %s of node %d: cannot read the certificate it serves: %v", l.Name, np.node.ID, err))
				p.recheck = true
				continue
			}
			if bytes.Equal(served, lc.chain[0].Raw) {
				r.served.record(memo, sum)
				continue
			}
			// The kubelet may not have updated the file yet: the broker then keeps what it
			// serves, and the next reconcile asks again.
			if err := r.Keystores.Reload(ctx, k, np.node.ID, kafkaconfig.ListenerKeystoreLocationKey(l)); err != nil {
				p.warnings = append(p.warnings, fmt.Sprintf("listener %s of node %d serves an earlier certificate, and reloading failed: %v", l.Name, np.node.ID, err))
			} else if r.served.ask(memo, sum) {
				reloaded = append(reloaded, fmt.Sprintf("%d/%s", np.node.ID, l.Name))
			}
			waiting = append(waiting, fmt.Sprintf("%d/%s", np.node.ID, l.Name))
			p.recheck = true
		}
	}
	if len(waiting) > 0 {
		slices.Sort(waiting)
		p.warnings = append(p.warnings, "listener certificates not served yet (node/listener): "+strings.Join(waiting, ", ")+"; the brokers reload them once the kubelet has updated their files")
	}
	if len(reloaded) > 0 {
		slices.Sort(reloaded)
		klog.FromContext(ctx).Info("Asked brokers to reload listener keystores", "listeners", reloaded)
		r.Recorder.Eventf(k, nil, corev1.EventTypeNormal, "ListenerCertificateReload", "Reconcile",
			"brokers asked to reload a renewed listener certificate without a restart (node/listener): %s", strings.Join(reloaded, ", "))
	}
}
