package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// brokerCutMidTopicBatch: while the topic operator creates 40 RF-3 topics, a broker's link goes
// down (its network namespace cut off: the JVM runs, no peer reaches it) for 25 s, longer than
// its controller session, so Kafka fences it and refuses RF 3 meanwhile. Once it is back, every
// topic is Ready and exact in Kafka (partitions, replicas, full ISR), no topic is missing or
// extra, and the cluster is Ready again.
func brokerCutMidTopicBatch(t *testing.T, f *framework.Framework, ns string) {
	ctx := t.Context()
	adm := kadm.NewClient(realKafkaClient(t, f, ns, "c", "c-kafka-bootstrap."+ns+".svc:9091", operatorCert(t, f, ns, "c")))
	var brokers []string
	for name := range nodePods(t, f, ns) {
		if strings.Contains(name, "-brokers-") {
			brokers = append(brokers, name)
		}
	}
	slices.Sort(brokers)
	if len(brokers) < 3 {
		t.Fatalf("brokers %v, want 3", brokers)
	}
	victim := brokers[1]
	cut := func(on bool) { setNetcut(t, f, ns, victim, on) }
	const n = 40
	name := func(i int) string { return fmt.Sprintf("cut-%02d", i) }
	spec := v1beta1.KafkaTopicSpec{Partitions: ptr.To[int32](3), Replicas: ptr.To[int32](3)}
	api := f.Kafkaplane.KafkaplaneV1beta1().KafkaTopics(ns)
	for i := range n {
		if i == n/2 {
			cut(true)
		}
		if _, err := api.Create(ctx, kafkaTopic(name(i), spec, map[string]string{v1beta1.LabelCluster: "c"}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cutAt := time.Now()
	framework.Eventually(t, 90*time.Second, victim+" cut off (not Ready)", func() (bool, error) {
		p, err := f.Kube.CoreV1().Pods(ns).Get(ctx, victim, metav1.GetOptions{})
		return err == nil && !podReady(p), err
	})
	time.Sleep(time.Until(cutAt.Add(25 * time.Second)))
	ready := 0
	for i := range n {
		if kt, err := api.Get(ctx, name(i), metav1.GetOptions{}); err == nil {
			if r, ok := readyReason(kt); ok && r == v1beta1.ReasonReady {
				ready++
			}
		}
	}
	cut(false)
	healed := time.Now()
	t.Logf("%s cut off for %s; %d of %d topics Ready meanwhile", victim, healed.Sub(cutAt).Round(time.Second), ready, n)
	for i := range n {
		waitTopicWithin(t, f, ns, name(i), v1beta1.ReasonReady, 3*time.Minute)
	}
	t.Logf("all %d topics Ready %s after the link came back", n, time.Since(healed).Round(time.Second))
	framework.Eventually(t, 3*time.Minute, "every topic exact in Kafka with a full ISR", func() (bool, error) {
		var names []string
		for i := range n {
			names = append(names, name(i))
		}
		td, err := adm.ListTopics(ctx)
		if err != nil {
			return false, err
		}
		for _, nm := range names {
			d, ok := td[nm]
			if !ok {
				return false, fmt.Errorf("topic %s missing", nm)
			}
			if len(d.Partitions) != 3 {
				return false, fmt.Errorf("topic %s has %d partitions", nm, len(d.Partitions))
			}
			for _, p := range d.Partitions {
				if len(p.Replicas) != 3 || len(p.ISR) != 3 {
					return false, fmt.Errorf("%s-%d replicas %v isr %v", nm, p.Partition, p.Replicas, p.ISR)
				}
			}
		}
		for topic := range td {
			if strings.HasPrefix(topic, "cut-") && !slices.Contains(names, topic) {
				return false, fmt.Errorf("extra topic %s", topic)
			}
		}
		return true, nil
	})
	waitKafkaReady(t, f, ns, "c", readyAfterRoll)
	p, err := f.Kube.CoreV1().Pods(ns).Get(ctx, victim, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s restarted %d times in all; cluster Ready %s after the link came back", victim, restarts(*p), time.Since(healed).Round(time.Second))
	for i := range n {
		if err := api.Delete(ctx, name(i), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}
