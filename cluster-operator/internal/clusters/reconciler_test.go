package clusters

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubeinformers "k8s.io/client-go/informers"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/roller"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
	kpfake "github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned/fake"
	kpinformers "github.com/kafkaplane/kafkaplane/pkg/generated/informers/externalversions"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
)

// fakeChecker answers restart and removal questions as told, recording the questions.
type fakeChecker struct {
	restart, remove bool
	why             string
	asked           []int32
	// deny refuses these nodes even when restart is true.
	deny map[int32]string
}

func (f *fakeChecker) Quorum(context.Context, *v1beta1.Kafka) (roller.Quorum, error) {
	return roller.Quorum{Leader: -1}, nil
}
func (f *fakeChecker) CanRestart(_ context.Context, _ *v1beta1.Kafka, n roller.Node) (bool, string) {
	f.asked = append(f.asked, n.ID)
	if why, ok := f.deny[n.ID]; ok {
		return false, why
	}
	return f.restart, f.why
}
func (f *fakeChecker) CanRemove(context.Context, *v1beta1.Kafka, []int32) (bool, string) {
	return f.remove, f.why
}

type env struct {
	kube    *k8sfake.Clientset
	kp      *kpfake.Clientset
	rec     *Reconciler
	checker *fakeChecker
	caches  *Caches
}

const ns = "ns"

func newEnv(t *testing.T, objs ...runtime.Object) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	kube := k8sfake.NewClientset()
	kp := kpfake.NewSimpleClientset(objs...) // merge patches; our types have no typed schema for the field-managed tracker
	nss := informers.ParseNamespaces(ns)
	kpf := informers.NewPerNamespace(nss, func(n string) kpinformers.SharedInformerFactory {
		return kpinformers.NewSharedInformerFactoryWithOptions(kp, 0, kpinformers.WithNamespace(n))
	})
	kf := informers.NewPerNamespace(nss, func(n string) kubeinformers.SharedInformerFactory {
		return kubeinformers.NewSharedInformerFactoryWithOptions(kube, 0, kubeinformers.WithNamespace(n))
	})
	k := func(get func(kubeinformers.SharedInformerFactory) cache.SharedIndexInformer) *informers.Multi {
		return informers.ForResource(kf, get)
	}
	c := &Caches{
		Kafkas: informers.ForResource(kpf, func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Kafkaplane().V1beta1().Kafkas().Informer()
		}),
		Pools: informers.ForResource(kpf, func(f kpinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Kafkaplane().V1beta1().KafkaNodePools().Informer()
		}),
		Pods: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Pods().Informer()
		}),
		Services: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Services().Informer()
		}),
		ConfigMaps: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().ConfigMaps().Informer()
		}),
		Secrets: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().Secrets().Informer()
		}),
		Claims: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().PersistentVolumeClaims().Informer()
		}),
		Budgets: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Policy().V1().PodDisruptionBudgets().Informer()
		}),
		NetworkPolicies: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Networking().V1().NetworkPolicies().Informer()
		}),
		ServiceAccounts: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Core().V1().ServiceAccounts().Informer()
		}),
		Roles: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Rbac().V1().Roles().Informer()
		}),
		RoleBindings: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Rbac().V1().RoleBindings().Informer()
		}),
		Deployments: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Apps().V1().Deployments().Informer()
		}),
		Ingresses: k(func(f kubeinformers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Networking().V1().Ingresses().Informer()
		}),
	}
	kpf.Start(ctx)
	kf.Start(ctx)
	if err := informers.WaitForSync(ctx, c.All()...); err != nil {
		t.Fatal(err)
	}
	ch := &fakeChecker{}
	return &env{kube: kube, kp: kp, caches: c, checker: ch, rec: &Reconciler{Kube: kube, Client: kp, Caches: c,
		Recorder: events.NewFakeRecorder(1000), Checker: ch,
		Opts: Options{FieldManager: "test", TopicOperatorImage: "to:1", UserOperatorImage: "uo:1"}}}
}

// reconcile runs one reconcile of Kafka c, then lets the caches catch up with its writes.
func (e *env) reconcile(t *testing.T) controller.Result {
	t.Helper()
	res, err := e.rec.Reconcile(context.Background(), controller.Key{Namespace: ns, Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	return res
}

func testKafka() *v1beta1.Kafka {
	return &v1beta1.Kafka{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: ns, UID: "kafka-uid", Generation: 1},
		Spec: v1beta1.KafkaSpec{Kafka: v1beta1.KafkaClusterSpec{
			Listeners: []v1beta1.GenericKafkaListener{
				{Name: "plain", Port: 9092, Type: v1beta1.ListenerInternal},
				{Name: "tls", Port: 9093, Type: v1beta1.ListenerInternal, TLS: true, Authentication: &v1beta1.ListenerAuthentication{Type: v1beta1.ListenerAuthTLS}},
			},
			Authorization: &v1beta1.KafkaAuthorization{Type: "simple"},
		},
			EntityOperator: &v1beta1.EntityOperatorSpec{TopicOperator: &v1beta1.EntityTopicOperatorSpec{}}}}
}

func testPool(name string, replicas int32, roles ...v1beta1.ProcessRole) *v1beta1.KafkaNodePool {
	return &v1beta1.KafkaNodePool{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 1,
		Labels: map[string]string{v1beta1.LabelCluster: "c"}},
		Spec: v1beta1.KafkaNodePoolSpec{Replicas: replicas, Roles: roles,
			Storage: v1beta1.Storage{Type: v1beta1.StoragePersistentClaim, Size: "1Gi", DeleteClaim: true}}}
}

func (e *env) kafka(t *testing.T) *v1beta1.Kafka {
	t.Helper()
	k, err := e.kp.KafkaplaneV1beta1().Kafkas(ns).Get(context.Background(), "c", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (e *env) pods(t *testing.T) map[string]*corev1.Pod {
	t.Helper()
	l, err := e.kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*corev1.Pod{}
	for i := range l.Items {
		out[l.Items[i].Name] = &l.Items[i]
	}
	return out
}

// markReady makes every pod Running and Ready, as a kubelet would.
func (e *env) markReady(t *testing.T) {
	t.Helper()
	for _, p := range e.pods(t) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if _, err := e.kube.CoreV1().Pods(ns).UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
}

func TestReconcileCreatesCluster(t *testing.T) {
	e := newEnv(t, testKafka(), testPool("controllers", 3, v1beta1.RoleController), testPool("brokers", 2, v1beta1.RoleBroker))
	e.reconcile(t)
	pods := e.pods(t)
	if len(pods) != 5 {
		t.Fatalf("%d pods, want 5", len(pods))
	}
	k := e.kafka(t)
	if k.Status.ClusterID == "" {
		t.Fatal("no cluster ID in status")
	}
	c := findReady(k)
	if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "nodes not ready") {
		t.Fatalf("Ready before pods are: %+v", c)
	}
	e.markReady(t)
	e.reconcile(t)
	c = findReady(e.kafka(t))
	// The entity operator's Deployment has no available replica in a fake clientset.
	if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "entity operators not available: c-entity-topic-operator") {
		t.Fatalf("condition: %+v", c)
	}
}

func findReady(k *v1beta1.Kafka) *metav1.Condition {
	for i := range k.Status.Conditions {
		if k.Status.Conditions[i].Type == v1beta1.ConditionReady {
			return &k.Status.Conditions[i]
		}
	}
	return nil
}

func TestReconcileIsStable(t *testing.T) {
	e := newEnv(t, testKafka(), testPool("controllers", 1, v1beta1.RoleController), testPool("brokers", 1, v1beta1.RoleBroker))
	e.reconcile(t)
	e.markReady(t)
	e.reconcile(t)
	snapshot := func() map[string]string {
		out := map[string]string{}
		l, _ := e.kube.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{})
		// The fake clientset keeps no resource versions: compare contents.
		for _, s := range l.Items {
			out["secret/"+s.Name] = fmt.Sprint(s.Data, s.Annotations)
		}
		d, _ := e.kube.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
		for _, s := range d.Items {
			out["deployment/"+s.Name] = fmt.Sprint(s.Annotations, s.Spec.Template.Annotations)
		}
		return out
	}
	before := snapshot()
	e.reconcile(t)
	after := snapshot()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s rewritten by a reconcile with nothing to do", k)
		}
	}
}
