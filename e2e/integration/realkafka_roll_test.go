package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

const kafkaPodSelector = "kafkaplane.io/cluster=c,kafkaplane.io/pool"

// userCertOf reads the certificate the user operator wrote for a KafkaUser.
func userCertOf(t *testing.T, f *framework.Framework, ns, user string) tls.Certificate {
	t.Helper()
	var cert tls.Certificate
	framework.Eventually(t, 2*time.Minute, "the Secret of user "+user, func() (bool, error) {
		s, err := f.Kube.CoreV1().Secrets(ns).Get(t.Context(), user, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cert, err = tls.X509KeyPair(s.Data["user.crt"], s.Data["user.key"])
		return err == nil, err
	})
	return cert
}

// nodePods are the Kafka node pods by name.
func nodePods(t *testing.T, f *framework.Framework, ns string) map[string]corev1.Pod {
	t.Helper()
	list, err := f.Kube.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: kafkaPodSelector})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]corev1.Pod{}
	for _, p := range list.Items {
		out[p.Name] = p
	}
	return out
}

// serving is a pod Ready and not being deleted.
func serving(p corev1.Pod) bool { return p.DeletionTimestamp == nil && podReady(&p) }

func isController(name string) bool {
	return len(name) > len("c-controllers") && name[:len("c-controllers")] == "c-controllers"
}

// rollingRestart changes a static broker config (auto.create.topics.enable, read-only in Kafka:
// only a restart applies it) while a producer sends with acks=all to an RF 3,
// min.insync.replicas 2 topic: every node restarts exactly once, controllers before brokers, never
// two brokers (or two controllers) down at once; no acknowledged message is lost and no send
// fails; Kafka reports the new value afterwards.
func rollingRestart(t *testing.T, f *framework.Framework, ns string) {
	ctx := t.Context()
	cert := userCertOf(t, f, ns, "app")
	bootstrap := "c-kafka-bootstrap." + ns + ".svc:9093"
	producer := realKafkaClient(t, f, ns, "c", bootstrap, cert, kgo.DefaultProduceTopic("rolling"),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(3*time.Minute))
	waitTopic(t, f, ns, "rolling", "Ready")
	framework.Eventually(t, 2*time.Minute, "app to produce to rolling", func() (bool, error) {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		err := producer.ProduceSync(pctx, kgo.StringRecord("warm-up")).FirstErr()
		return err == nil, err
	})

	before := nodePods(t, f, ns)
	if len(before) != 6 {
		t.Fatalf("%d node pods, want 6", len(before))
	}
	// The producer: one record at a time, each acknowledged by all in-sync replicas.
	var acked sync.Map
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v := strconv.Itoa(i)
			sent.Add(1)
			if err := producer.ProduceSync(ctx, kgo.StringRecord(v)).FirstErr(); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			} else {
				acked.Store(v, true)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	// The watcher: when each pod was replaced, how many distinct pods each name had, and the
	// most nodes of each role down at once.
	type seen struct {
		replacedAt time.Time
		uids       map[types.UID]bool
		downSince  time.Time
		rollTime   time.Duration
	}
	watch := map[string]*seen{}
	for name, p := range before {
		watch[name] = &seen{uids: map[types.UID]bool{p.UID: true}}
	}
	maxBrokersDown, maxControllersDown := 0, 0
	var mu sync.Mutex
	watchDone := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-watchDone:
				return
			case <-time.After(200 * time.Millisecond):
			}
			list, err := f.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: kafkaPodSelector})
			if err != nil {
				continue
			}
			pods := map[string]corev1.Pod{}
			for _, p := range list.Items {
				pods[p.Name] = p
			}
			mu.Lock()
			brokersDown, controllersDown := 0, 0
			for name, s := range watch {
				p, ok := pods[name]
				if ok {
					s.uids[p.UID] = true
				}
				down := !ok || !serving(p)
				if (!ok || p.UID != before[name].UID || p.DeletionTimestamp != nil) && s.replacedAt.IsZero() {
					s.replacedAt = time.Now()
				}
				if down {
					if s.downSince.IsZero() {
						s.downSince = time.Now()
					}
					if isController(name) {
						controllersDown++
					} else {
						brokersDown++
					}
				} else if !s.downSince.IsZero() {
					s.rollTime = max(s.rollTime, time.Since(s.downSince))
					s.downSince = time.Time{}
				}
			}
			maxBrokersDown = max(maxBrokersDown, brokersDown)
			maxControllersDown = max(maxControllersDown, controllersDown)
			mu.Unlock()
		}
	})

	rollStart := time.Now()
	patch := []byte(`{"spec":{"kafka":{"config":{"auto.create.topics.enable":"false"}}}}`)
	if _, err := f.Kafkaplane.KafkaplaneV1beta1().Kafkas(ns).Patch(ctx, "c", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 12*time.Minute, "every node replaced and ready, the Kafka Ready", func() (bool, error) {
		now := nodePods(t, f, ns)
		for name, p := range before {
			q, ok := now[name]
			if !ok || q.UID == p.UID || !serving(q) {
				return false, fmt.Errorf("%s not replaced and ready yet", name)
			}
		}
		return kafkaReady(t, f, ns, "c")()
	})
	rolled := time.Since(rollStart)
	time.Sleep(2 * time.Second)
	close(stop)
	close(watchDone)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	var lastController, firstBroker time.Time
	for name, s := range watch {
		if n := len(s.uids); n != 2 {
			t.Errorf("%s ran %d pods during the roll, want 2 (restarted exactly once)", name, n)
		}
		t.Logf("%s replaced at +%s, down for %s", name, s.replacedAt.Sub(rollStart).Round(100*time.Millisecond), s.rollTime.Round(100*time.Millisecond))
		if isController(name) {
			if s.replacedAt.After(lastController) {
				lastController = s.replacedAt
			}
		} else if firstBroker.IsZero() || s.replacedAt.Before(firstBroker) {
			firstBroker = s.replacedAt
		}
	}
	if !lastController.Before(firstBroker) {
		t.Errorf("a broker restarted (+%s) before the last controller (+%s)", firstBroker.Sub(rollStart), lastController.Sub(rollStart))
	}
	if maxBrokersDown > 1 || maxControllersDown > 1 {
		t.Errorf("at most %d brokers and %d controllers were down at once, want at most 1 of each", maxBrokersDown, maxControllersDown)
	}
	if failed.Load() > 0 {
		t.Errorf("%d of %d sends failed during the roll (first: %v)", failed.Load(), sent.Load(), firstErr.Load())
	}
	t.Logf("roll of 6 nodes took %s; %d records sent, %d failed", rolled.Round(time.Second), sent.Load(), failed.Load())

	// Every acknowledged record is in Kafka.
	consumer := realKafkaClient(t, f, ns, "c", bootstrap, cert, kgo.ConsumeTopics("rolling"), kgo.ConsumerGroup("app-check"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	want := 0
	acked.Range(func(any, any) bool { want++; return true })
	got := map[string]bool{}
	missing := func() bool {
		m := false
		acked.Range(func(k, _ any) bool { m = !got[k.(string)]; return !m })
		return m
	}
	// Until every acknowledged record is read (the topic holds others too: the warm-up, and
	// what earlier steps sent), or the deadline.
	deadline := time.Now().Add(2 * time.Minute)
	for missing() && time.Now().Before(deadline) {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		fs := consumer.PollFetches(fctx)
		cancel()
		if err := fs.Err0(); err != nil && err != context.DeadlineExceeded {
			t.Fatalf("consuming rolling: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
	}
	var lost []string
	acked.Range(func(k, _ any) bool {
		if !got[k.(string)] {
			lost = append(lost, k.(string))
		}
		return true
	})
	slices.Sort(lost)
	if len(lost) > 0 {
		t.Errorf("%d acknowledged records are not in Kafka: %v", len(lost), lost[:min(len(lost), 20)])
	}
	t.Logf("%d acknowledged records, all read back", want)

	// The static config is in effect on every broker.
	adm := kadm.NewClient(realKafkaClient(t, f, ns, "c", "c-kafka-bootstrap."+ns+".svc:9091", operatorCert(t, f, ns, "c")))
	rc, err := adm.DescribeBrokerConfigs(ctx, 0, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rc {
		for _, c := range r.Configs {
			if c.Key == "auto.create.topics.enable" && c.MaybeValue() != "false" {
				t.Errorf("broker %s: auto.create.topics.enable=%s after the roll", r.Name, c.MaybeValue())
			}
		}
	}
}
