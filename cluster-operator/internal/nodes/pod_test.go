package nodes

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/logging"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

func testNode(pool *v1beta1.KafkaNodePool, broker bool) Node {
	return Node{Node: kafkaconfig.Node{ID: 0, Pool: pool.Name, Broker: broker, Controller: !broker}, PoolSpec: pool}
}

func testKafka() *v1beta1.Kafka {
	return &v1beta1.Kafka{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"},
		Spec: v1beta1.KafkaSpec{Kafka: v1beta1.KafkaClusterSpec{Rack: &v1beta1.Rack{TopologyKey: "topology.kubernetes.io/zone"}}}}
}

func testPool() *v1beta1.KafkaNodePool {
	return &v1beta1.KafkaNodePool{ObjectMeta: metav1.ObjectMeta{Name: "brokers"}}
}

// A broker recovering a large log opens its listener late: the liveness probe must not apply
// before a startup probe allowing (30*time.Minute) has passed (a liveness probe with a 60 s
// initial delay used to kill such a broker into a crash loop).
func TestPodStartupProbeGuardsSlowStart(t *testing.T) {
	for _, broker := range []bool{true, false} {
		c := Pod(testKafka(), testNode(testPool(), broker), PodOptions{Image: "apache/kafka:4.1.1"}).Spec.Containers[0]
		sp := c.StartupProbe
		if sp == nil || sp.TCPSocket == nil {
			t.Fatalf("broker=%v: no startup probe", broker)
		}
		if got := time.Duration(sp.PeriodSeconds*sp.FailureThreshold) * time.Second; got < (30 * time.Minute) {
			t.Errorf("broker=%v: startup probe allows %s, want %s", broker, got, (30 * time.Minute))
		}
		if sp.TCPSocket.Port != c.LivenessProbe.TCPSocket.Port {
			t.Errorf("broker=%v: startup and liveness probes watch different ports", broker)
		}
	}
}

// A template's securityContext that only says runAsNonRoot keeps the image's numeric user and
// groups: the image names its user (appuser), which runAsNonRoot cannot verify, so a kubelet
// refuses to start the pod without a numeric runAsUser.
func TestPodTemplateSecurityContextKeepsNumericUser(t *testing.T) {
	k := testKafka()
	k.Spec.Kafka.Template = &v1beta1.KafkaClusterTemplate{Pod: &v1beta1.PodTemplate{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SupplementalGroups: []int64{5000}}}}
	sc := Pod(k, testNode(testPool(), true), PodOptions{}).Spec.SecurityContext
	if sc.RunAsUser == nil || *sc.RunAsUser != KafkaUID || sc.RunAsGroup == nil || sc.FSGroup == nil || *sc.FSGroup != KafkaUID {
		t.Fatalf("security context %+v lost the numeric user or groups", sc)
	}
	if len(sc.SupplementalGroups) != 1 || !*sc.RunAsNonRoot {
		t.Fatalf("the template's own fields were not kept: %+v", sc)
	}
	// An explicit user in the template wins.
	k.Spec.Kafka.Template.Pod.SecurityContext.RunAsUser = ptr.To[int64](2000)
	if sc := Pod(k, testNode(testPool(), true), PodOptions{}).Spec.SecurityContext; *sc.RunAsUser != 2000 {
		t.Fatalf("runAsUser = %d, want the template's 2000", *sc.RunAsUser)
	}
}

// KAFKA_OPTS from a template is added to the operator's (jvmOptions' -D and -XX), not a second
// definition that silently replaces it.
func TestPodTemplateKafkaOptsAppended(t *testing.T) {
	pool := testPool()
	pool.Spec.JvmOptions = &v1beta1.JvmOptions{JavaSystemProperties: []v1beta1.SystemProperty{{Name: "a", Value: "1"}}}
	pool.Spec.Template = &v1beta1.KafkaNodePoolTemplate{KafkaContainer: &v1beta1.ContainerTemplate{Env: []corev1.EnvVar{
		{Name: "KAFKA_OPTS", Value: "-Duser=2"}, {Name: "OTHER", Value: "x"}}}}
	env := Pod(testKafka(), testNode(pool, true), PodOptions{}).Spec.Containers[0].Env
	var opts []string
	for _, e := range env {
		if e.Name == "KAFKA_OPTS" {
			opts = append(opts, e.Value)
		}
	}
	if len(opts) != 1 || opts[0] != "-Da=1 -Duser=2" {
		t.Fatalf("KAFKA_OPTS = %q, want one definition \"-Da=1 -Duser=2\"", opts)
	}
}

// The node's private key is not world-readable, and /tmp is bounded.
func TestPodVolumesKeyModeAndTmpLimit(t *testing.T) {
	pod := Pod(testKafka(), testNode(testPool(), true), PodOptions{})
	for _, v := range pod.Spec.Volumes {
		switch v.Name {
		case "certs":
			if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o007 != 0 {
				t.Errorf("certs volume mode %v: the key is world-readable", v.Secret.DefaultMode)
			}
		case "tmp":
			if v.EmptyDir.SizeLimit == nil || v.EmptyDir.SizeLimit.IsZero() {
				t.Errorf("/tmp has no size limit")
			}
		}
	}
	if pod.Spec.SecurityContext.FSGroup == nil {
		t.Fatal("no fsGroup: the Kafka user could not read its key")
	}
}

// The start script refuses to start a broker whose rack label is missing (PodTopologyLabels
// admission off, or the node without the label) instead of starting it without broker.rack.
func TestStartScriptRefusesMissingRack(t *testing.T) {
	env := Pod(testKafka(), testNode(testPool(), true), PodOptions{}).Spec.Containers[0].Env
	var key string
	for _, e := range env {
		if e.Name == "KAFKA_RACK_TOPOLOGY_KEY" {
			key = e.Value
		}
	}
	if key != "topology.kubernetes.io/zone" {
		t.Fatalf("KAFKA_RACK_TOPOLOGY_KEY = %q", key)
	}
	script := filepath.Join(t.TempDir(), "start.sh")
	if err := os.WriteFile(script, []byte(startScript), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", script)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "KAFKA_RACK_TOPOLOGY_KEY=" + key, "KAFKA_BROKER_RACK="}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "broker.rack: the pod has no label topology.kubernetes.io/zone") {
		t.Fatalf("start script without a rack: %v, %s", err, out)
	}
}

// Kafka logs to the console with the operator's log4j2 configuration and without a GC log
// file: the image's defaults write both under LOG_DIR, in the bounded /tmp.
func TestStartScriptLogsToConsole(t *testing.T) {
	for _, want := range []string{"KAFKA_LOG4J_OPTS=\"${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=" + ConfigDir + "/log4j2.properties" + "}\"",
		"EXTRA_ARGS=\"${EXTRA_ARGS:--name kafkaServer}\""} {
		if !strings.Contains(startScript, want) {
			t.Errorf("start script lacks %s", want)
		}
	}
	cm := ConfigMap(testKafka(), testNode(testPool(), true), "", "id", "", logging.Default())
	if !strings.Contains(cm.Data["log4j2.properties"], "appender.stdout.type = Console") || strings.Contains(cm.Data["log4j2.properties"], "RollingFile") {
		t.Errorf("log4j2 configuration is not console-only:\n%s", cm.Data["log4j2.properties"])
	}
}

// spec.kafka.resources, jvmOptions and probe timings apply to pools that set none; a pool's own
// resources and jvmOptions win whole.
func TestKafkaLevelResourcesJvmOptionsAndProbes(t *testing.T) {
	k := testKafka()
	k.Spec.Kafka.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}}
	k.Spec.Kafka.JvmOptions = &v1beta1.JvmOptions{JavaSystemProperties: []v1beta1.SystemProperty{{Name: "from", Value: "kafka"}}}
	k.Spec.Kafka.LivenessProbe = &v1beta1.Probe{InitialDelaySeconds: ptr.To[int32](15), FailureThreshold: ptr.To[int32](9)}
	k.Spec.Kafka.ReadinessProbe = &v1beta1.Probe{PeriodSeconds: ptr.To[int32](3)}
	envOf := func(c corev1.Container, name string) string {
		for _, e := range c.Env {
			if e.Name == name {
				return e.Value
			}
		}
		return ""
	}
	c := Pod(k, testNode(testPool(), true), PodOptions{}).Spec.Containers[0]
	if got := c.Resources.Limits.Memory().String(); got != "2Gi" {
		t.Errorf("memory limit = %s, want the Kafka's 2Gi", got)
	}
	if got := envOf(c, "KAFKA_HEAP_OPTS"); got != "-Xmx1024m" {
		t.Errorf("KAFKA_HEAP_OPTS = %q, want the default heap from the Kafka's limit", got)
	}
	if got := envOf(c, "KAFKA_OPTS"); got != "-Dfrom=kafka" {
		t.Errorf("KAFKA_OPTS = %q, want the Kafka's jvmOptions", got)
	}
	if p := c.LivenessProbe; p.InitialDelaySeconds != 15 || p.FailureThreshold != 9 || p.PeriodSeconds != 10 || p.TCPSocket == nil {
		t.Errorf("liveness probe %+v: want the Kafka's delay and threshold over the operator's check", p)
	}
	if p := c.ReadinessProbe; p.PeriodSeconds != 3 || p.TimeoutSeconds != 5 {
		t.Errorf("readiness probe %+v", p)
	}

	pool := testPool()
	pool.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("4Gi")}}
	pool.Spec.JvmOptions = &v1beta1.JvmOptions{Xmx: "3g"}
	c = Pod(k, testNode(pool, true), PodOptions{}).Spec.Containers[0]
	if got := c.Resources.Limits.Memory().String(); got != "4Gi" {
		t.Errorf("memory limit = %s, want the pool's 4Gi", got)
	}
	if heap, opts := envOf(c, "KAFKA_HEAP_OPTS"), envOf(c, "KAFKA_OPTS"); heap != "-Xmx3g" || opts != "" {
		t.Errorf("heap %q, opts %q: want the pool's jvmOptions whole", heap, opts)
	}
}

// template.persistentVolumeClaim labels and annotates the claims (the pool's over the Kafka's),
// and template.initContainer the metrics init container; neither can take the operator's labels.
func TestClaimAndInitContainerTemplates(t *testing.T) {
	k := testKafka()
	k.Spec.Kafka.Template = &v1beta1.KafkaClusterTemplate{
		PersistentVolumeClaim: &v1beta1.ResourceTemplate{Metadata: &v1beta1.MetadataTemplate{
			Labels: map[string]string{"team": "kafka", "tier": "cluster", v1beta1.LabelCluster: "other"}, Annotations: map[string]string{"backup": "daily"}}},
		InitContainer: &v1beta1.ContainerTemplate{Env: []corev1.EnvVar{{Name: "HTTPS_PROXY", Value: "http://proxy:3128"}}},
	}
	k.Spec.Kafka.MetricsConfig = &v1beta1.MetricsConfig{Type: "jmxPrometheusExporter",
		ValueFrom: v1beta1.MetricsConfigSource{ConfigMapKeyRef: v1beta1.ConfigMapKeySelector{Name: "m", Key: "k"}}}
	pool := testPool()
	pool.Spec.Storage = v1beta1.Storage{Type: v1beta1.StoragePersistentClaim, Size: "1Gi"}
	pool.Spec.Template = &v1beta1.KafkaNodePoolTemplate{
		PersistentVolumeClaim: &v1beta1.ResourceTemplate{Metadata: &v1beta1.MetadataTemplate{Labels: map[string]string{"tier": "pool"}}},
		InitContainer:         &v1beta1.ContainerTemplate{SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr.To(true)}},
	}
	claims, err := Claims(k, testNode(pool, true))
	if err != nil || len(claims) != 1 {
		t.Fatalf("claims %v, %v", claims, err)
	}
	c := claims[0]
	if c.Labels["team"] != "kafka" || c.Labels["tier"] != "pool" || c.Labels[v1beta1.LabelCluster] != "c" || c.Annotations["backup"] != "daily" {
		t.Errorf("claim labels %v annotations %v", c.Labels, c.Annotations)
	}
	spec := Pod(k, testNode(pool, true), PodOptions{Metrics: &Metrics{Image: "exporter", JarPath: "/agent.jar"}}).Spec
	if len(spec.InitContainers) != 1 {
		t.Fatalf("init containers %v", spec.InitContainers)
	}
	ic := spec.InitContainers[0]
	if len(ic.Env) != 1 || ic.Env[0].Value != "http://proxy:3128" || ic.SecurityContext.ReadOnlyRootFilesystem != nil {
		t.Errorf("init container env %v security context %+v: want the templates'", ic.Env, ic.SecurityContext)
	}
}

// The start script runs the storage tool (a JVM start) only when a log directory is not
// formatted yet: a new node, a lost disk, a JBOD volume added to a running node.
func TestStartScriptFormatsOnlyUnformattedDirectories(t *testing.T) {
	root := t.TempDir()
	bin, conf := filepath.Join(root, "bin"), filepath.Join(root, "node-config")
	dirs := []string{filepath.Join(root, "data-0", "kafka-log1"), filepath.Join(root, "data-1", "kafka-log1")}
	calls := filepath.Join(root, "calls")
	for _, d := range []string{bin, conf} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, content string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bin, "kafka-storage.sh"), "#!/bin/sh\necho \"storage $*\" >> "+calls+"\n", 0o755)
	write(filepath.Join(bin, "kafka-server-start.sh"), "#!/bin/sh\necho \"server $*\" >> "+calls+"\n", 0o755)
	write(filepath.Join(conf, ServerPropertiesKey), "node.id=1\nlog.dirs="+strings.Join(dirs, ",")+"\nmetadata.log.dir="+dirs[0]+"\n", 0o644)
	write(filepath.Join(conf, ClusterIDKey), "abc", 0o644)
	write(filepath.Join(conf, FormatArgsKey), "", 0o644)
	script := strings.ReplaceAll(strings.ReplaceAll(startScript, "/opt/kafka/bin", bin), ConfigDir, conf)
	script = strings.ReplaceAll(script, "work=/tmp/kafkaplane", "work="+filepath.Join(root, "work"))
	write(filepath.Join(root, "start.sh"), script, 0o755)
	start := func() string {
		t.Helper()
		_ = os.Remove(calls)
		cmd := exec.Command("/bin/sh", filepath.Join(root, "start.sh"))
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("start script: %v\n%s", err, out)
		}
		b, err := os.ReadFile(calls)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	formatted := func(d string) {
		t.Helper()
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		write(filepath.Join(d, "meta.properties"), "version=1\n", 0o644)
	}

	if got := start(); !strings.Contains(got, "storage format --ignore-formatted") || !strings.Contains(got, "server ") {
		t.Fatalf("a new node: %q, want the storage tool, then the server", got)
	}
	formatted(dirs[0])
	if got := start(); !strings.Contains(got, "storage format") {
		t.Fatalf("one volume not formatted: %q, want the storage tool", got)
	}
	formatted(dirs[1])
	if got := start(); strings.Contains(got, "storage") || !strings.Contains(got, "server ") {
		t.Fatalf("every volume formatted: %q, want the server alone", got)
	}
	write(filepath.Join(conf, ServerPropertiesKey), "node.id=1\n", 0o644)
	if got := start(); !strings.Contains(got, "storage format") {
		t.Fatalf("no log.dirs in the configuration: %q, want the storage tool (it knows the default)", got)
	}
}
