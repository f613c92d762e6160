package kafka

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestCreateMovesOffABrokerThatDoesNotAnswer (kfake): a KRaft broker names a random live broker
// as the "controller" in its metadata answers, and kgo sends admin requests such as CreateTopics
// there until its metadata is refreshed, which a request that times out does not cause (only
// NOT_CONTROLLER or a failed dial do). A broker that takes the request and never answers (its
// forwarding to the controller stuck) then fails every create for minutes: in a real-Kafka run
// the entity operators said "Kafka did not answer in time (8s)" for over a minute after the
// cluster was Ready. After a request that got no answer, the Admin refreshes the metadata, so
// the next create goes to the broker named then.
func TestCreateMovesOffABrokerThatDoesNotAnswer(t *testing.T) {
	c := kfake.MustCluster(kfake.NumBrokers(3))
	defer c.Close()
	addrs := c.ListenAddrs()
	var mu sync.Mutex
	controller := int32(0)
	hung := 0
	done := make(chan struct{})
	defer close(done)
	// Metadata names the broker in `controller`, as KRaft's random pick would.
	c.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		mreq := req.(*kmsg.MetadataRequest)
		if len(mreq.Topics) > 0 {
			return nil, nil, false
		}
		resp := mreq.ResponseKind().(*kmsg.MetadataResponse)
		resp.Version = mreq.Version
		for i, a := range addrs {
			host, port, _ := net.SplitHostPort(a)
			p, _ := strconv.Atoi(port)
			b := kmsg.NewMetadataResponseBroker()
			b.NodeID, b.Host, b.Port = int32(i), host, int32(p)
			resp.Brokers = append(resp.Brokers, b)
		}
		mu.Lock()
		resp.ControllerID = controller
		mu.Unlock()
		return resp, nil, true
	})
	// Broker 0 takes CreateTopics and never answers; from then on metadata names broker 1. The
	// others answer (a KRaft broker forwards the request to the controller; kfake's own
	// controller is broker 0, so the answer is made here).
	c.ControlKey(int16(kmsg.CreateTopics), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if c.CurrentNode() != 0 {
			creq := req.(*kmsg.CreateTopicsRequest)
			resp := creq.ResponseKind().(*kmsg.CreateTopicsResponse)
			resp.Version = creq.Version
			for _, rt := range creq.Topics {
				st := kmsg.NewCreateTopicsResponseTopic()
				st.Topic, st.NumPartitions, st.ReplicationFactor = rt.Topic, rt.NumPartitions, rt.ReplicationFactor
				resp.Topics = append(resp.Topics, st)
			}
			return resp, nil, true
		}
		mu.Lock()
		hung++
		controller = 1
		mu.Unlock()
		c.SleepControl(func() { <-done })
		return nil, nil, false
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	a := NewAdmin(cl, nil)
	a.create.Timeout = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)

	if _, err := a.Create(ctx, NewTopic{Name: "first", Partitions: 1, Replicas: 1}); err == nil {
		t.Fatal("the create sent to the broker that does not answer succeeded")
	}
	// The next attempt, as a reconcile's retry would make it.
	var last error
	for i := 0; i < 3; i++ {
		if _, last = a.Create(ctx, NewTopic{Name: "second", Partitions: 1, Replicas: 1}); last == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if last != nil {
		t.Fatalf("creates still fail after the first got no answer (%d sent to the broker that does not answer): %v", hung, last)
	}
}
