package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/kafkaplane/kafkaplane/e2e/build"
	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/rbac"
)

// helmTemplate renders charts/kafkaplane with the pinned Helm CLI.
func helmTemplate(t *testing.T, namespace string, set ...string) []*unstructured.Unstructured {
	t.Helper()
	helm, err := build.Helm(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := build.RepoRoot()
	chart := filepath.Join(root, "charts", "kafkaplane")
	args := []string{"--kube-version", "1.37.0"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	var out, errb bytes.Buffer
	lint := exec.Command(helm, append([]string{"lint", chart, "--quiet"}, args...)...)
	lint.Stdout, lint.Stderr = &out, &errb
	if err := lint.Run(); err != nil {
		t.Fatalf("helm lint %v: %v\n%s%s", set, err, out.String(), errb.String())
	}
	out.Reset()
	cmd := exec.Command(helm, append([]string{"template", "kafkaplane", chart, "--namespace", namespace}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm template %v: %v\n%s", set, err, errb.String())
	}
	objs, err := framework.Decode(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func byKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func rulesOf(t *testing.T, o *unstructured.Unstructured) []rbacv1.PolicyRule {
	t.Helper()
	var role rbacv1.Role
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &role); err != nil {
		t.Fatal(err)
	}
	return role.Rules
}

// TestChartRenders: the chart lints and renders for its main value combinations; its RBAC is
// exactly pkg/rbac's rules, cluster-wide or a Role per watched namespace; the CRDs are kept on
// uninstall; the operators run with a restricted security context.
func TestChartRenders(t *testing.T) {
	all := helmTemplate(t, "kafkaplane")
	crds := byKind(all, "CustomResourceDefinition")
	if len(crds) != 4 {
		t.Fatalf("%d CRDs", len(crds))
	}
	for _, c := range crds {
		if c.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
			t.Errorf("CRD %s is not kept on uninstall", c.GetName())
		}
	}
	crs := byKind(all, "ClusterRole")
	if len(crs) != 1 || !equalRules(rulesOf(t, crs[0]), rbac.ClusterOperatorRules()) {
		t.Fatalf("cluster-wide install: ClusterRoles %d, rules differ from pkg/rbac", len(crs))
	}
	d := byKind(all, "Deployment")
	if len(d) != 1 {
		t.Fatalf("%d Deployments by default, want the cluster operator only", len(d))
	}
	containers, _, _ := unstructured.NestedSlice(d[0].Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	if c["image"] != "ghcr.io/kafkaplane/cluster-operator:0.1.0-dev" {
		t.Errorf("image %v", c["image"])
	}
	if sc, ok := c["securityContext"].(map[string]any); !ok || sc["allowPrivilegeEscalation"] != false || sc["readOnlyRootFilesystem"] != true {
		t.Errorf("security context %v", c["securityContext"])
	}

	scoped := helmTemplate(t, "ops", "global.watchNamespaces={team-a,team-b}", "crds.install=false",
		"topic-operator.enabled=true", "topic-operator.bootstrapServers=kafka:9093", "topic-operator.tls.secretName=kafka-ca",
		"user-operator.enabled=true", "user-operator.bootstrapServers=kafka:9093", "user-operator.sasl.secretName=op", "user-operator.sasl.username=op",
		"global.metrics.serviceMonitor=true")
	if n := len(byKind(scoped, "ClusterRole")); n != 0 {
		t.Errorf("%d ClusterRoles with watched namespaces", n)
	}
	if n := len(byKind(scoped, "CustomResourceDefinition")); n != 0 {
		t.Errorf("%d CRDs with crds.install=false", n)
	}
	want := map[string][]rbacv1.PolicyRule{"kafkaplane-cluster-operator": rbac.ClusterOperatorRules(),
		"kafkaplane-topic-operator": rbac.TopicOperatorRules(), "kafkaplane-user-operator": rbac.UserOperatorRules()}
	seen := map[string]int{}
	for _, r := range byKind(scoped, "Role") {
		rules, ok := want[r.GetName()]
		if !ok {
			continue // the leader-election Roles
		}
		if !slices.Contains([]string{"team-a", "team-b"}, r.GetNamespace()) || !equalRules(rulesOf(t, r), rules) {
			t.Errorf("Role %s/%s differs from pkg/rbac", r.GetNamespace(), r.GetName())
		}
		seen[r.GetName()]++
	}
	for name := range want {
		if seen[name] != 2 {
			t.Errorf("%s has %d namespaced Roles, want 2", name, seen[name])
		}
	}
	if n := len(byKind(scoped, "Deployment")); n != 3 {
		t.Errorf("%d Deployments with the standalone operators", n)
	}
	if n := len(byKind(scoped, "ServiceMonitor")); n != 3 {
		t.Errorf("%d ServiceMonitors", n)
	}
}

func equalRules(a, b []rbacv1.PolicyRule) bool {
	ja, _ := yaml.Marshal(a)
	jb, _ := yaml.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestChartInstallRunsTheClusterOperator: the rendered chart, scoped to one namespace and with
// the standalone topic and user operators on, installs into the API server; all three run with
// the chart's ServiceAccounts (their tokens, their RBAC); the cluster operator reconciles a Kafka
// there (the README's example: its CA, six node pods and its entity operators, which the
// cluster operator may create only because its Role holds their rules); SubjectAccessReviews
// show what each may and may not do.
func TestChartInstallRunsTheClusterOperator(t *testing.T) {
	f := framework.Get(t)
	f.RequireSimulated(t)
	ns := f.Namespace(t)
	ctx := context.Background()
	objs := helmTemplate(t, ns, "global.watchNamespaces={"+ns+"}", "crds.install=false",
		"topic-operator.enabled=true", "topic-operator.bootstrapServers=127.0.0.1:9", "topic-operator.resourceLabels=kafkaplane.io/cluster=other",
		"user-operator.enabled=true", "user-operator.bootstrapServers=127.0.0.1:9", "user-operator.resourceLabels=kafkaplane.io/cluster=other")
	for _, o := range objs {
		if _, err := f.ApplyObject(ctx, ns, o); err != nil {
			t.Fatalf("applying %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	for _, name := range []string{"kafkaplane-cluster-operator", "kafkaplane-topic-operator", "kafkaplane-user-operator"} {
		framework.Eventually(t, 2*time.Minute, name+" available", func() (bool, error) {
			d, err := f.Kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return d.Status.AvailableReplicas == 1, fmt.Errorf("available %d", d.Status.AvailableReplicas)
		})
	}
	// The README's example cluster, in the watched namespace.
	example, err := os.ReadFile(repoPath(t, "deploy", "examples", "tls-cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	exampleObjs, err := framework.Decode(example)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range exampleObjs {
		if o.GetKind() == "Namespace" {
			continue
		}
		o.SetNamespace(ns)
		if _, err := f.ApplyObject(ctx, ns, o); err != nil {
			t.Fatal(err)
		}
	}
	framework.Eventually(t, 2*time.Minute, "the example Kafka's CA, node pods and entity operators", func() (bool, error) {
		if _, err := f.Kube.CoreV1().Secrets(ns).Get(ctx, "my-tls-cluster-cluster-ca-cert", metav1.GetOptions{}); err != nil {
			return false, err
		}
		pods, err := f.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "kafkaplane.io/cluster=my-tls-cluster,kafkaplane.io/pool"})
		if err != nil {
			return false, err
		}
		if len(pods.Items) != 6 {
			return false, fmt.Errorf("%d node pods", len(pods.Items))
		}
		for _, d := range []string{"my-tls-cluster-entity-topic-operator", "my-tls-cluster-entity-user-operator"} {
			if _, err := f.Kube.AppsV1().Deployments(ns).Get(ctx, d, metav1.GetOptions{}); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	type check struct {
		sa      string
		attrs   authorizationv1.ResourceAttributes
		allowed bool
	}
	const co, to, uo = "kafkaplane-cluster-operator", "kafkaplane-topic-operator", "kafkaplane-user-operator"
	for _, c := range []check{
		{co, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "pods"}, true},
		{co, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "roles"}, true},
		{co, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "kafkaplane.io", Resource: "kafkas", Subresource: "status"}, true},
		{co, authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Resource: "pods"}, false},
		{co, authorizationv1.ResourceAttributes{Namespace: "default", Verb: "get", Resource: "secrets"}, false},
		{co, authorizationv1.ResourceAttributes{Verb: "list", Resource: "secrets"}, false},
		{co, authorizationv1.ResourceAttributes{Verb: "get", Resource: "nodes"}, false},
		{co, authorizationv1.ResourceAttributes{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, false},
		{to, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "watch", Group: "kafkaplane.io", Resource: "kafkatopics"}, true},
		{to, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "patch", Group: "kafkaplane.io", Resource: "kafkatopics", Subresource: "status"}, true},
		{to, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets"}, false},
		{to, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "list", Group: "kafkaplane.io", Resource: "kafkausers"}, false},
		{to, authorizationv1.ResourceAttributes{Namespace: "default", Verb: "watch", Group: "kafkaplane.io", Resource: "kafkatopics"}, false},
		{uo, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "secrets"}, true},
		{uo, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "kafkaplane.io", Resource: "kafkausers", Subresource: "finalizers"}, true},
		{uo, authorizationv1.ResourceAttributes{Namespace: "default", Verb: "get", Resource: "secrets"}, false},
		{uo, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "pods"}, false},
		{uo, authorizationv1.ResourceAttributes{Verb: "list", Resource: "secrets"}, false},
	} {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "system:serviceaccount:" + ns + ":" + c.sa,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns}, ResourceAttributes: &c.attrs}}
		got, err := f.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Allowed != c.allowed {
			t.Errorf("%s: %s %s/%s in %q: allowed %v, want %v", c.sa, c.attrs.Verb, c.attrs.Resource, c.attrs.Subresource, c.attrs.Namespace, got.Status.Allowed, c.allowed)
		}
	}
}
