// Package clusters is the Kafka reconciler: from a Kafka and its KafkaNodePools it computes and
// applies the cluster's CAs and certificates, node IDs, per-node configuration, Pods and PVCs,
// Services, disruption budget, network policy and entity operators; it rolls nodes one at a time
// when what they run changes, and reports status on the Kafka and its pools.
package clusters

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkalane"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
	"github.com/kafkaplane/kafkaplane/pkg/events"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
)

// DefaultKafkaVersion is the Kafka version of a Kafka that names none.
const DefaultKafkaVersion = "4.1.1"

// Options configure the reconciler.
type Options struct {
	FieldManager string
	// TopicOperatorImage and UserOperatorImage are the entity operators' default images.
	TopicOperatorImage, UserOperatorImage string
	// Metrics is the JMX exporter nodes run when a Kafka asks for metrics; nil when the operator
	// has none configured.
	Metrics *nodes.Metrics
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Reconciler reconciles Kafka resources.
type Reconciler struct {
	Kube     kubernetes.Interface
	Client   versioned.Interface
	Caches   *Caches
	Recorder events.Recorder
	// Checker answers whether a node may restart or be removed; see RestartChecker.
	Checker RestartChecker
	// Metadata lists user Secrets (metadata only) while a clients CA key is replaced.
	Metadata metadata.Interface
	// Dynamic applies cluster-wide dynamic broker configs at runtime; nil leaves them to rolls.
	Dynamic DynamicConfigurer
	// CertManager reads and writes cert-manager's resources (listener Certificates); nil refuses
	// configuration.certManager.
	CertManager dynamic.Interface
	// Loggers sets the brokers' logger levels at runtime; nil leaves them to restarts.
	Loggers LoggerSetter
	// Keystores makes running brokers take up a renewed listener certificate; nil leaves it to
	// the next restart.
	Keystores KeystoreReloader
	// Quorum changes the controller quorum's voters on controller scale-up and scale-down.
	Quorum QuorumChanger
	// Registrations unregisters removed nodes from Kafka's metadata; nil leaves them.
	Registrations NodeUnregisterer
	// Features raises metadata.version after an upgrade; nil leaves it.
	Features FeatureRaiser
	// Metrics, when set, receive certificate expiry times.
	Metrics *Metrics
	Opts    Options

	served servedMemo
}

func (r *Reconciler) now() time.Time {
	if r.Opts.Now != nil {
		return r.Opts.Now()
	}
	return time.Now()
}

// Reconcile implements controller.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, key controller.Key) (controller.Result, error) {
	k := get[v1beta1.Kafka](r.Caches.Kafkas, key.Namespace, key.Name)
	pools := r.pools(key.Namespace, key.Name)
	if k == nil {
		r.forgetCluster(key.Namespace, key.Name)
		// What the Kafka owned goes by garbage collection; what it made in other namespaces goes
		// here, once the API server confirms the Kafka is gone (not merely out of the cache's
		// label selector). A pool naming a cluster that does not exist says so.
		if err := r.sweepDeleted(ctx, key); err != nil {
			return controller.Result{}, err
		}
		return controller.Result{}, r.orphanPools(ctx, key.Name, pools)
	}
	k = k.DeepCopy()
	logger := klog.FromContext(ctx).WithValues("kafka", klog.KObj(k))
	ctx = klog.NewContext(ctx, logger)
	if k.DeletionTimestamp != nil {
		return controller.Result{}, r.sweepEntityRBAC(ctx, k.Namespace, k.Name, nil)
	}
	if k.Annotations[v1beta1.AnnotationPauseReconciliation] == "true" {
		return controller.Result{}, r.setReady(ctx, k, metav1.ConditionFalse, v1beta1.ReasonReconciliationPaused,
			"reconciliation is paused by the "+v1beta1.AnnotationPauseReconciliation+" annotation", nil)
	}
	if problems := validate(k, pools); len(problems) > 0 {
		return controller.Result{}, r.invalid(ctx, k, pools, strings.Join(problems, "; "))
	}
	res, err := r.reconcile(ctx, k, pools)
	if err != nil {
		var se *specError
		if asSpecError(err, &se) {
			return controller.Result{}, r.invalid(ctx, k, pools, se.msg)
		}
		if we, ok := err.(*waitError); ok {
			// Nothing was written; the cluster is looked at again soon.
			return controller.Result{RequeueAfter: 10 * time.Second}, r.setReady(ctx, k, metav1.ConditionFalse, we.reason, we.msg, &we.msg)
		}
		if serr := r.setReady(ctx, k, metav1.ConditionFalse, v1beta1.ReasonInternalError, err.Error(), nil); serr != nil {
			logger.Error(serr, "Writing the status failed")
		}
		return controller.Result{}, err
	}
	return res, nil
}

// pools are the KafkaNodePools labelled with a cluster's name.
func (r *Reconciler) pools(namespace, cluster string) []*v1beta1.KafkaNodePool {
	return list[v1beta1.KafkaNodePool](r.Caches.Pools, namespace, labels.SelectorFromSet(labels.Set{v1beta1.LabelCluster: cluster}))
}

// reconcile brings a valid cluster to its desired state, step by step; each step's writes are
// skipped when the cache already shows them.
func (r *Reconciler) reconcile(ctx context.Context, k *v1beta1.Kafka, pools []*v1beta1.KafkaNodePool) (controller.Result, error) {
	ctx = kafkalane.WithTally(ctx)
	p, err := r.plan(ctx, k, pools)
	if err != nil {
		return controller.Result{}, err
	}
	if err := r.applyClusterObjects(ctx, k, p); err != nil {
		return controller.Result{}, err
	}
	if err := r.applyNodes(ctx, k, p); err != nil {
		return controller.Result{}, err
	}
	roll, err := r.roll(ctx, k, p)
	if err != nil {
		return controller.Result{}, err
	}
	r.applyDynamic(ctx, k, p)
	r.applyLogging(ctx, k, p)
	r.applyListenerCerts(ctx, k, p)
	r.reconcileVoters(ctx, k, p)
	if err := r.removeNodes(ctx, k, p); err != nil {
		return controller.Result{}, err
	}
	r.unregisterNodes(ctx, k, p)
	eo, err := r.applyEntityOperators(ctx, k, p)
	if err != nil {
		return controller.Result{}, err
	}
	r.finishUpgrade(ctx, k, p, roll)
	if err := r.publishClientsTrust(ctx, k, p, roll); err != nil {
		return controller.Result{}, err
	}
	if err := r.trimTrust(ctx, k, p, roll, eo); err != nil {
		return controller.Result{}, err
	}
	// A Ready condition that already describes this generation keeps its state and message
	// when the reconcile went on without one of Kafka's answers: the answer queues the cluster
	// again, and "Kafka has not answered yet" in between would flip Ready for a slow answer. A
	// new generation is reported at once, with what is awaited.
	pending := kafkalane.Pending(ctx)
	p.holdReady = pending && reported(k)
	if err := r.writeStatus(ctx, k, pools, p, roll, eo); err != nil {
		return controller.Result{}, err
	}
	res := controller.Result{RequeueAfter: time.Until(p.renewAt)}
	if roll.waiting || p.recheck || pending {
		// Waiting on pods to become ready, or on Kafka to allow the next restart.
		res.RequeueAfter = 10 * time.Second
	}
	if res.RequeueAfter <= 0 {
		res.RequeueAfter = time.Hour
	}
	return res, nil
}

// reported says the status's Ready condition describes the Kafka's current generation.
func reported(k *v1beta1.Kafka) bool {
	c := conditions.Find(k.Status.Conditions, v1beta1.ConditionReady)
	return c != nil && c.ObservedGeneration == k.Generation && k.Status.ObservedGeneration == k.Generation
}

// specError is a problem with the spec found while planning: a condition, not a retry.
type specError struct{ msg string }

func (e *specError) Error() string { return e.msg }

func specErrorf(format string, args ...any) error {
	return &specError{msg: fmt.Sprintf(format, args...)}
}

func asSpecError(err error, target **specError) bool {
	se, ok := err.(*specError)
	if ok {
		*target = se
	}
	return ok
}

// nodePods are the cluster's node pods by name.
func (r *Reconciler) nodePods(k *v1beta1.Kafka) map[string]*corev1.Pod {
	out := map[string]*corev1.Pod{}
	for _, p := range list[corev1.Pod](r.Caches.Pods, k.Namespace, clusterSelector(k.Name)) {
		if p.Labels[v1beta1.LabelPool] != "" {
			out[p.Name] = p
		}
	}
	return out
}

// sweepDeleted removes the entity operators' RBAC in other namespaces of a Kafka that is gone.
func (r *Reconciler) sweepDeleted(ctx context.Context, key controller.Key) error {
	live, err := r.Client.KafkaplaneV1beta1().Kafkas(key.Namespace).Get(ctx, key.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return r.sweepEntityRBAC(ctx, key.Namespace, key.Name, nil)
	case err != nil:
		return fmt.Errorf("reading Kafka %s/%s: %w", key.Namespace, key.Name, err)
	case live.DeletionTimestamp != nil:
		return r.sweepEntityRBAC(ctx, key.Namespace, key.Name, nil)
	}
	return nil
}
