package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// topicOperatorDeployment is a minimal Deployment of our topic-operator image, as an operator
// or a user would write it: its own service account, namespace-scoped, a readiness probe.
func topicOperatorDeployment(ns, sa string) *appsv1.Deployment {
	labels := map[string]string{"app": "topic-operator"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "topic-operator"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: sa,
					Containers: []corev1.Container{{
						Name:  "topic-operator",
						Image: v1beta1.Image(v1beta1.BinaryTopicOperator, "test"),
						// No KafkaTopic exists here, so the operator never dials this address.
						Args: []string{"--watch-namespaces=" + ns, "--http-address=:8080", "--bootstrap-servers=127.0.0.1:9"},
						Env: []corev1.EnvVar{
							{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
							{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
						},
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
							HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("http")}}},
					}},
				},
			},
		},
	}
}

func createRBAC(t *testing.T, kube kubernetes.Interface, ns, sa string) {
	t.Helper()
	ctx := t.Context()
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: sa}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{v1beta1.GroupName}, Resources: []string{"kafkatopics"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	}}
	if _, err := kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: sa},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}}}
	if _, err := kube.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestOperatorPodRunsWithItsServiceAccountIdentity runs a Deployment of our topic-operator
// through the process-pod runner: the binary becomes Ready (it authenticated and synced its
// informers), takes its Lease as its pod, and its credentials are exactly its service
// account's: allowed what its Role grants, denied everything else.
func TestOperatorPodRunsWithItsServiceAccountIdentity(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ns := f.Namespace(t)
	const sa = "topic-operator"
	createRBAC(t, f.Kube, ns, sa)
	if _, err := f.Kube.AppsV1().Deployments(ns).Create(t.Context(), topicOperatorDeployment(ns, sa), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := waitPods(t, f.Kube, ns, "app=topic-operator", 1, func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && podReady(p)
	})[0]

	// Its Lease is held by the pod (POD_NAME through the downward API, and its process's suffix).
	framework.Eventually(t, 30*time.Second, "the operator's lease", func() (bool, error) {
		l, err := f.Kube.CoordinationV1().Leases(ns).Get(t.Context(), "kafkaplane-topic-operator", metav1.GetOptions{})
		return err == nil && l.Spec.HolderIdentity != nil && strings.HasPrefix(*l.Spec.HolderIdentity, pod.Name+"_"), err
	})

	// The credentials handed to the process are its service account's, bound to the pod.
	kc := filepath.Join(f.Dir, "pods", ns, pod.Name, "kubeconfig")
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatalf("reading the pod's kubeconfig %s: %v", kc, err)
	}
	review, err := f.Kube.AuthenticationV1().TokenReviews().Create(t.Context(),
		&authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: cfg.BearerToken}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("system:serviceaccount:%s:%s", ns, sa)
	if !review.Status.Authenticated || review.Status.User.Username != want {
		t.Fatalf("the pod authenticates as %q (authenticated=%v), want %q", review.Status.User.Username, review.Status.Authenticated, want)
	}
	if names := review.Status.User.Extra["authentication.kubernetes.io/pod-name"]; len(names) != 1 || names[0] != pod.Name {
		t.Errorf("token bound to pod %v, want %s", names, pod.Name)
	}

	podClient := kubernetes.NewForConfigOrDie(cfg)
	for _, tc := range []struct {
		attrs authorizationv1.ResourceAttributes
		allow bool
	}{
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "watch", Group: v1beta1.GroupName, Resource: "kafkatopics"}, true},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: v1beta1.GroupName, Resource: "kafkatopics"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets"}, false},
		{authorizationv1.ResourceAttributes{Namespace: "default", Verb: "list", Group: v1beta1.GroupName, Resource: "kafkatopics"}, false},
		{authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes"}, false},
	} {
		r, err := podClient.AuthorizationV1().SelfSubjectAccessReviews().Create(context.Background(),
			&authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &tc.attrs}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Allowed != tc.allow {
			t.Errorf("%s %s/%s in %q: allowed=%v, want %v", tc.attrs.Verb, tc.attrs.Group, tc.attrs.Resource, tc.attrs.Namespace, r.Status.Allowed, tc.allow)
		}
	}
	if _, err := os.Stat(filepath.Join(f.Dir, "logs", ns+"_"+pod.Name+".log")); err != nil {
		t.Errorf("no log for the process pod: %v", err)
	}
}
