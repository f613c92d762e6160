package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kafkaplane/kafkaplane/pkg/conditions"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
)

// blackhole accepts connections and never answers: a Kafka that hangs.
type blackhole struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newBlackhole() (*blackhole, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &blackhole{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	return b, nil
}

func (b *blackhole) Addr() string { return b.ln.Addr().String() }

func (b *blackhole) Close() {
	_ = b.ln.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		_ = c.Close()
	}
}

// slowProxy forwards to a Kafka and delivers every answer delay late: a Kafka that answers after
// 10 s.
type slowProxy struct {
	*blackhole
}

func newSlowProxy(upstream string, delay time.Duration) (*slowProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &slowProxy{&blackhole{ln: ln}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c) }()
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := up.Read(buf)
					if n > 0 {
						at := time.Now()
						chunk := slices.Clone(buf[:n])
						time.Sleep(time.Until(at.Add(delay)))
						if _, werr := c.Write(chunk); werr != nil {
							return
						}
					}
					if err != nil {
						_ = c.Close()
						return
					}
				}
			}()
		}
	}()
	return p, nil
}

// blockingResult is the time from a spec change of a healthy cluster to its Ready condition
// for that generation, while other clusters' Kafka hangs or answers late.
type blockingResult struct {
	bad     int
	changes []time.Duration
}

// measureBlocking points bad of the clusters at a Kafka that hangs (half) or answers 10 s late
// (the other half), makes each of them reconcile, and then changes a dynamic config of healthy
// clusters one after another, timing each to Ready.
func measureBlocking(ctx context.Context, kp versioned.Interface, overrides string, addrs map[string]string, names []string, bad, changes int) (blockingResult, error) {
	res := blockingResult{bad: bad}
	if len(names) < bad+changes {
		return res, fmt.Errorf("%d clusters are too few for %d unreachable and %d changes", len(names), bad, changes)
	}
	hole, err := newBlackhole()
	if err != nil {
		return res, err
	}
	defer hole.Close()
	for i, name := range names[:bad] {
		if i%2 == 0 {
			addrs["bench/"+name] = hole.Addr()
			continue
		}
		p, err := newSlowProxy(addrs["bench/"+name], 10*time.Second)
		if err != nil {
			return res, err
		}
		defer p.Close()
		addrs["bench/"+name] = p.Addr()
	}
	b, _ := json.Marshal(addrs)
	if err := os.WriteFile(overrides, b, 0o600); err != nil {
		return res, err
	}
	patch := func(name string, v int) (int64, error) {
		k, err := kp.KafkaplaneV1beta1().Kafkas("bench").Patch(ctx, name, types.MergePatchType,
			fmt.Appendf(nil, `{"spec":{"kafka":{"config":{"log.retention.ms":%d}}}}`, v), metav1.PatchOptions{})
		if err != nil {
			return 0, err
		}
		return k.Generation, nil
	}
	// Each unreachable cluster reconciles and asks its Kafka (a dynamic config to apply).
	for _, name := range names[:bad] {
		if _, err := patch(name, 3600000); err != nil {
			return res, err
		}
	}
	time.Sleep(time.Second)
	for i, name := range names[bad : bad+changes] {
		start := time.Now()
		gen, err := patch(name, 7200000+i)
		if err != nil {
			return res, err
		}
		for {
			k, err := kp.KafkaplaneV1beta1().Kafkas("bench").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return res, err
			}
			if conditions.IsReady(k.Status.Conditions, gen) {
				break
			}
			if time.Since(start) > 3*time.Minute {
				return res, fmt.Errorf("cluster %s not Ready for generation %d in 3 minutes", name, gen)
			}
			time.Sleep(20 * time.Millisecond)
		}
		res.changes = append(res.changes, time.Since(start))
	}
	return res, nil
}

func (r blockingResult) String() string {
	s := slices.Clone(r.changes)
	slices.Sort(s)
	if len(s) == 0 {
		return "no changes measured"
	}
	return fmt.Sprintf("median %s, max %s over %d changes", s[len(s)/2].Round(10*time.Millisecond), s[len(s)-1].Round(10*time.Millisecond), len(s))
}
