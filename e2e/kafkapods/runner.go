// Package kafkapods runs the pods whose image is apache/kafka:<version> for real, unmodified:
// the pod's own command, args, env and volume mounts, on a Kafka distribution laid out from
// Maven Central (package kafkadist) at /opt/kafka. Each pod gets what a container runtime gives
// it: a network namespace with its own IP on the harness's bridge (package podnet), a mount and
// UTS namespace with its volumes at their mountPath (package podinit), its hostname, the
// cluster DNS in /etc/resolv.conf, its runAsUser/runAsGroup/fsGroup, a read-only root where it
// asks for one; probes run as a kubelet runs them; deletion sends SIGTERM and SIGKILL after the
// grace period.
//
// Which pods: every apache/kafka pod when Options.All is set (the sandbox), else those in
// namespaces labelled NamespaceLabel=true (tests that want real Kafka); the kubelet simulates
// the others.
package kafkapods

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kafkaplane/kafkaplane/e2e/clusterdns"
	"github.com/kafkaplane/kafkaplane/e2e/kafkadist"
	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
	"github.com/kafkaplane/kafkaplane/e2e/podnet"
)

// NamespaceLabel on a namespace makes its apache/kafka pods run for real. It is the harness's,
// not a product label.
const NamespaceLabel = "sim.kafkaplane.io/real-kafka"

// ImagePrefix is the image whose pods this runner handles.
const ImagePrefix = "apache/kafka:"

// Options configure a Runner.
type Options struct {
	Client kubernetes.Interface
	// Podinit is the podinit binary.
	Podinit string
	Network *podnet.Network
	DNS     *clusterdns.Server
	// Dir holds the pods' sandboxes and the volumes of claims; LogDir the containers' logs
	// (<namespace>_<pod>.log).
	Dir, LogDir string
	// All runs every apache/kafka pod, not only those in labelled namespaces.
	All bool
	// NodeAddress gives a node's address (status.hostIP).
	NodeAddress func(node string) string
	// InitImages gives the files of the images whose init containers the harness runs; a pod
	// with another init container does not start.
	InitImages InitImages
}

// Runner implements kubelet.Runner for apache/kafka pods.
type Runner struct {
	opts Options

	mu         sync.Mutex
	sandboxes  map[types.UID]*sandbox
	containers map[types.UID]*Container
	dists      map[string]*kafkadist.Dist
	distMu     sync.Mutex
}

var (
	_ kubelet.Runner     = (*Runner)(nil)
	_ kubelet.PodNetwork = (*Runner)(nil)
	_ kubelet.Sandboxes  = (*Runner)(nil)
)

// New returns a Runner.
func New(o Options) *Runner {
	return &Runner{opts: o, sandboxes: map[types.UID]*sandbox{}, containers: map[types.UID]*Container{},
		dists: map[string]*kafkadist.Dist{}}
}

// Version is the Kafka version of an apache/kafka pod's image, or "".
func Version(pod *corev1.Pod) string {
	if len(pod.Spec.Containers) == 0 {
		return ""
	}
	v, ok := strings.CutPrefix(pod.Spec.Containers[0].Image, ImagePrefix)
	if !ok || !slices.Contains(kafkadist.Supported(), v) {
		return ""
	}
	return v
}

// Handles implements kubelet.Runner.
func (r *Runner) Handles(pod *corev1.Pod) bool {
	if Version(pod) == "" {
		return false
	}
	if r.opts.All {
		return true
	}
	r.mu.Lock()
	_, known := r.sandboxes[pod.UID]
	r.mu.Unlock()
	if known {
		return true
	}
	ns, err := r.opts.Client.CoreV1().Namespaces().Get(context.Background(), pod.Namespace, metav1.GetOptions{})
	return err == nil && ns.Labels[NamespaceLabel] == "true"
}

// Container returns the running container of a pod, for tests (kill -9, cut the network).
func (r *Runner) Container(uid types.UID) (*Container, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[uid]
	return c, ok
}

// PodIP implements kubelet.PodNetwork: the pod's sandbox is created on first use.
func (r *Runner) PodIP(ctx context.Context, pod *corev1.Pod) (string, error) {
	sb, err := r.sandbox(pod)
	if err != nil {
		return "", err
	}
	return sb.netns.IP.String(), nil
}

// Release implements kubelet.Sandboxes: the pod is gone, so are its network and emptyDirs.
func (r *Runner) Release(uid types.UID) {
	r.mu.Lock()
	sb := r.sandboxes[uid]
	delete(r.sandboxes, uid)
	delete(r.containers, uid)
	r.mu.Unlock()
	if sb != nil {
		sb.netns.Delete()
		_ = os.RemoveAll(sb.dir)
	}
}

// sandbox is a pod's state across its container's restarts.
type sandbox struct {
	uid   types.UID
	dir   string
	netns *podnet.Namespace
	// initDone: the pod's init containers ran to completion.
	initDone bool
}

func (r *Runner) sandbox(pod *corev1.Pod) (*sandbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sb, ok := r.sandboxes[pod.UID]; ok {
		return sb, nil
	}
	ns, err := r.opts.Network.Add()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(r.opts.Dir, "pods", fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, string(pod.UID)[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		ns.Delete()
		return nil, fmt.Errorf("kafkapods: %w", err)
	}
	sb := &sandbox{uid: pod.UID, dir: dir, netns: ns}
	r.sandboxes[pod.UID] = sb
	return sb, nil
}

// dist returns the distribution of version, fetching it on first use.
func (r *Runner) dist(ctx context.Context, version string) (*kafkadist.Dist, error) {
	r.distMu.Lock()
	defer r.distMu.Unlock()
	if d, ok := r.dists[version]; ok {
		return d, nil
	}
	d, err := kafkadist.Ensure(ctx, kafkadist.Options{Version: version})
	if err != nil {
		return nil, err
	}
	r.dists[version] = d
	return d, nil
}

// claimDir is the directory of a bound claim's volume: it outlives pods, and is removed with
// the volume by ReleaseVolume.
func (r *Runner) claimDir(ctx context.Context, namespace, claim string) (string, error) {
	pvc, err := r.opts.Client.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("claim %s: %w", claim, err)
	}
	if pvc.Spec.VolumeName == "" || pvc.Status.Phase != corev1.ClaimBound {
		return "", &kubelet.StartError{Reason: "ContainerCreating", Message: fmt.Sprintf("claim %s is not bound", claim)}
	}
	if _, err := r.opts.Client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return "", &kubelet.StartError{Reason: "ContainerCreating", Message: fmt.Sprintf("volume %s of claim %s is gone", pvc.Spec.VolumeName, claim)}
	}
	return VolumeDir(r.opts.Dir, pvc.Spec.VolumeName), nil
}

// VolumeDir is where the data of a PersistentVolume lives on this machine.
func VolumeDir(dir, pv string) string { return filepath.Join(dir, "volumes", pv) }
