package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
)

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func waitPods(t *testing.T, kube kubernetes.Interface, ns, selector string, n int, ok func(*corev1.Pod) bool) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	framework.Eventually(t, 60*time.Second, fmt.Sprintf("%d pods (%s) in %s", n, selector, ns), func() (bool, error) {
		list, err := kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err
		}
		pods = list.Items
		if len(pods) != n {
			return false, fmt.Errorf("%d pods", len(pods))
		}
		for i := range pods {
			if !ok(&pods[i]) {
				return false, fmt.Errorf("pod %s: phase %s, conditions %v", pods[i].Name, pods[i].Status.Phase, pods[i].Status.Conditions)
			}
		}
		return true, nil
	})
	return pods
}

func simulatedDeployment(name string, replicas int32, spec func(*corev1.PodSpec)) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "example.com/app:1"}}},
			},
		},
	}
	if spec != nil {
		spec(&d.Spec.Template.Spec)
	}
	return d
}

// TestPodsSpreadOverZonesAndRun: the real scheduler decides placement (topology spread over the
// simulated nodes' zones) and the kubelet makes the pods Running and Ready with an IP.
func TestPodsSpreadOverZonesAndRun(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ns := f.Namespace(t)
	d := simulatedDeployment("spread", 3, func(s *corev1.PodSpec) {
		s.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "spread"}},
		}}
	})
	if _, err := f.Kube.AppsV1().Deployments(ns).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := waitPods(t, f.Kube, ns, "app=spread", 3, func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && podReady(p) && p.Status.PodIP != ""
	})
	nodes := map[string]bool{}
	for _, p := range pods {
		nodes[p.Spec.NodeName] = true
	}
	if len(nodes) != 3 {
		t.Errorf("pods on %d nodes, want one per zone: %v", len(nodes), nodes)
	}
}

// TestNodeSelectorPlacesPod: a pod selecting zone-b lands on the zone-b node.
func TestNodeSelectorPlacesPod(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ns := f.Namespace(t)
	d := simulatedDeployment("pinned", 1, func(s *corev1.PodSpec) {
		s.NodeSelector = map[string]string{corev1.LabelTopologyZone: "zone-b"}
	})
	if _, err := f.Kube.AppsV1().Deployments(ns).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := waitPods(t, f.Kube, ns, "app=pinned", 1, podReady)
	node, err := f.Kube.CoreV1().Nodes().Get(t.Context(), pods[0].Spec.NodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if z := node.Labels[corev1.LabelTopologyZone]; z != "zone-b" {
		t.Errorf("pod on node %s in zone %q, want zone-b", node.Name, z)
	}
}

// TestFaultsAndHealing: the fault annotation makes a pod NotReady, crash-looping or Failed, and
// removing it heals the pod.
func TestFaultsAndHealing(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ns := f.Namespace(t)
	if _, err := f.Kube.AppsV1().Deployments(ns).Create(t.Context(), simulatedDeployment("faulty", 1, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := waitPods(t, f.Kube, ns, "app=faulty", 1, podReady)[0]
	annotate := func(value string) {
		t.Helper()
		v := "null"
		if value != "" {
			v = `"` + value + `"`
		}
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, kubelet.FaultAnnotation, v)
		if _, err := f.Kube.CoreV1().Pods(ns).Patch(t.Context(), pod.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	annotate("notready")
	waitPods(t, f.Kube, ns, "app=faulty", 1, func(p *corev1.Pod) bool { return !podReady(p) && p.Status.Phase == corev1.PodRunning })
	annotate("")
	waitPods(t, f.Kube, ns, "app=faulty", 1, podReady)
	annotate("crashloop")
	waitPods(t, f.Kube, ns, "app=faulty", 1, func(p *corev1.Pod) bool {
		cs := p.Status.ContainerStatuses
		return !podReady(p) && len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == "CrashLoopBackOff" && cs[0].RestartCount > 0
	})
	annotate("fail")
	framework.Eventually(t, 30*time.Second, "the pod to fail", func() (bool, error) {
		p, err := f.Kube.CoreV1().Pods(ns).Get(t.Context(), pod.Name, metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodFailed, err
	})
}

// TestVolumesProvisionedBoundAndResized: a claim of the default class gets a volume of its size,
// is bound by the controller-manager, and grows when the claim asks for more.
func TestVolumesProvisionedBoundAndResized(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ns := f.Namespace(t)
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if _, err := f.Kube.CoreV1().PersistentVolumeClaims(ns).Create(t.Context(), pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	capacity := func(want string) func() (bool, error) {
		return func() (bool, error) {
			got, err := f.Kube.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), "data", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			c := got.Status.Capacity[corev1.ResourceStorage]
			return got.Status.Phase == corev1.ClaimBound && c.Cmp(resource.MustParse(want)) == 0,
				fmt.Errorf("phase %s capacity %s", got.Status.Phase, c.String())
		}
	}
	framework.Eventually(t, 60*time.Second, "the claim to be bound at 1Gi", capacity("1Gi"))
	patch := `{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}`
	if _, err := f.Kube.CoreV1().PersistentVolumeClaims(ns).Patch(t.Context(), "data", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 60*time.Second, "the claim to grow to 2Gi", capacity("2Gi"))
}

// TestLoadBalancerGetsAddress: a LoadBalancer service gets an ingress address.
func TestLoadBalancerGetsAddress(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ns := f.Namespace(t)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "lb"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "x"},
			Ports: []corev1.ServicePort{{Name: "kafka", Port: 9094}}},
	}
	if _, err := f.Kube.CoreV1().Services(ns).Create(t.Context(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "a load balancer address", func() (bool, error) {
		got, err := f.Kube.CoreV1().Services(ns).Get(t.Context(), "lb", metav1.GetOptions{})
		return err == nil && len(got.Status.LoadBalancer.Ingress) == 1 && got.Status.LoadBalancer.Ingress[0].IP != "", err
	})
}
