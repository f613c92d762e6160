package clusters

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/logging"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

type fakeLoggers struct {
	nodes  [][]logging.Target
	levels []logging.Levels
}

func (f *fakeLoggers) Apply(_ context.Context, _ *v1beta1.Kafka, nodes []logging.Target, want logging.Levels) ([]string, error) {
	f.nodes, f.levels = append(f.nodes, nodes), append(f.levels, want)
	return []string{"changed"}, nil
}

func (e *env) patchKafka(t *testing.T, patch string) {
	t.Helper()
	if _, err := e.kp.KafkaplaneV1beta1().Kafkas(ns).Patch(context.Background(), "c", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
}

// Inline loggers reach every node at runtime (a controller-only node through its controller
// listener) and their ConfigMaps for the next start, without a restart. Removing the logging
// sets the nodes back to the defaults.
func TestInlineLoggingChangesLevelsWithoutRoll(t *testing.T) {
	e := readyCluster(t)
	lg := &fakeLoggers{}
	e.rec.Loggers = lg
	e.checker.restart = true
	controller := e.nodeNames(t, "controllers")[0]
	e.patchKafka(t, `{"spec":{"kafka":{"logging":{"type":"inline","loggers":{"rootLogger.level":"WARN","logger.c.name":"kafka.coordinator","logger.c.level":"DEBUG"}}}}}`)
	e.reconcile(t)
	if n := len(e.pods(t)); n != 3 {
		t.Errorf("a node restarted for a logger level: %d pods", n)
	}
	if len(lg.levels) == 0 || lg.levels[0][logging.Root] != "WARN" || lg.levels[0]["kafka.coordinator"] != "DEBUG" || len(lg.nodes[0]) != 3 {
		t.Fatalf("levels set: %v on %v", lg.levels, lg.nodes)
	}
	var addrs int
	for _, n := range lg.nodes[0] {
		if n.Addr != "" {
			addrs++
			if !strings.HasPrefix(n.Addr, controller+".") || !strings.HasSuffix(n.Addr, ":9090") {
				t.Errorf("controller reached at %s", n.Addr)
			}
		}
	}
	if addrs != 1 {
		t.Errorf("%d nodes reached through their controller listener, want the one controller", addrs)
	}
	cm, err := e.kube.CoreV1().ConfigMaps(ns).Get(context.Background(), e.nodeNames(t, "brokers")[0], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cm.Data["log4j2.properties"], "rootLogger.level = WARN") {
		t.Errorf("the broker's ConfigMap lacks the levels for its next start:\n%s", cm.Data["log4j2.properties"])
	}

	e.markReady(t)
	e.reconcile(t)
	e.markReady(t)
	e.patchKafka(t, `{"spec":{"kafka":{"logging":null}}}`)
	lg.levels = nil
	e.reconcile(t)
	if len(lg.levels) == 0 || lg.levels[0][logging.Root] != "INFO" || lg.levels[0]["kafka.coordinator"] != "" {
		t.Fatalf("removing the logging set %v, want the defaults", lg.levels)
	}
}

// Bad inline loggers refuse the Kafka with the reason; an external file that is missing too.
func TestInvalidLogging(t *testing.T) {
	for patch, want := range map[string]string{
		`{"spec":{"kafka":{"logging":{"type":"inline","loggers":{"kafka.root.logger.level":"INFO"}}}}}`:                                   "use rootLogger.level",
		`{"spec":{"kafka":{"logging":{"type":"inline","loggers":{"rootLogger.level":"LOUD"}}}}}`:                                          "is not one of",
		`{"spec":{"kafka":{"logging":{"type":"external","valueFrom":{"configMapKeyRef":{"name":"missing","key":"log4j2.properties"}}}}}}`: "ConfigMap missing not found",
	} {
		e := readyCluster(t)
		e.patchKafka(t, patch)
		e.reconcile(t)
		if c := findReady(e.kafka(t)); c == nil || c.Reason != v1beta1.ReasonInvalidSpec || !strings.Contains(c.Message, want) {
			t.Errorf("%s: condition %+v", patch, c)
		}
	}
}

// An external log4j2 file is every node's configuration; changing it rolls every node, since only
// a restart reads it.
func TestExternalLoggingRolls(t *testing.T) {
	e := readyCluster(t)
	e.checker.restart = true
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "my-logging", Namespace: ns},
		Data: map[string]string{"log4j2.properties": "rootLogger.level = DEBUG\n"}}
	if _, err := e.kube.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := e.pods(t)
	e.patchKafka(t, `{"spec":{"kafka":{"logging":{"type":"external","valueFrom":{"configMapKeyRef":{"name":"my-logging","key":"log4j2.properties"}}}}}}`)
	e.reconcile(t)
	node, err := e.kube.CoreV1().ConfigMaps(ns).Get(context.Background(), e.nodeNames(t, "brokers")[0], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if node.Data["log4j2.properties"] != "rootLogger.level = DEBUG\n" {
		t.Errorf("node ConfigMap log4j2.properties = %q", node.Data["log4j2.properties"])
	}
	if after := e.pods(t); len(after) == len(before) {
		t.Error("no node restarted for a new external logging file")
	}
}
