package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/e2e/env"
	"github.com/kafkaplane/kafkaplane/e2e/kafkastandin"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
)

// standIns runs a Kafka stand-in for each Kafka of the sandbox once its CAs exist, and points
// everything that would reach the cluster's Services at it: the process pods of the entity
// operators (their in-cluster bootstrap address is rewritten), the cluster operator (through
// --kafka-bootstrap-overrides) and the user (bootstrap.json, by namespace/cluster/listener).
type standIns struct {
	e                        *env.Env
	kp                       versioned.Interface
	overrides, bootstrapJSON string

	mu        sync.Mutex
	started   map[string]*kafkastandin.StandIn
	bootstrap map[string]string
	override  map[string]string
}

func (s *standIns) run(ctx context.Context) {
	s.started, s.bootstrap, s.override = map[string]*kafkastandin.StandIn{}, map[string]string{}, map[string]string{}
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, si := range s.started {
			si.Close()
		}
	}()
	for {
		ks, err := s.kp.KafkaplaneV1beta1().Kafkas(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range ks.Items {
				k := &ks.Items[i]
				key := k.Namespace + "/" + k.Name
				s.mu.Lock()
				_, ok := s.started[key]
				s.mu.Unlock()
				if !ok {
					s.start(ctx, k)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *standIns) start(ctx context.Context, k *v1beta1.Kafka) {
	brokers := 0
	pools, err := s.kp.KafkaplaneV1beta1().KafkaNodePools(k.Namespace).List(ctx, metav1.ListOptions{LabelSelector: v1beta1.LabelCluster + "=" + k.Name})
	if err != nil {
		return
	}
	for _, p := range pools.Items {
		for _, r := range p.Spec.Roles {
			if r == v1beta1.RoleBroker {
				brokers += int(p.Spec.Replicas)
			}
		}
	}
	if brokers == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	si, err := kafkastandin.Start(wctx, s.e.Kube, k.Namespace, k.Name, brokers)
	if err != nil {
		return // the CAs are not there yet; next round
	}
	addr := si.ListenAddrs()[0]
	svc := fmt.Sprintf("%s.%s.svc", v1beta1.BootstrapServiceName(k.Name), k.Namespace)
	s.e.Runner.SetAddress(svc+":"+strconv.Itoa(v1beta1.PortReplication), addr)
	s.mu.Lock()
	s.started[k.Namespace+"/"+k.Name] = si
	s.override[k.Namespace+"/"+k.Name] = addr
	for _, l := range k.Spec.Kafka.Listeners {
		if l.TLS {
			s.bootstrap[k.Namespace+"/"+k.Name+"/"+l.Name] = addr
		}
	}
	err = writeJSON(s.overrides, s.override)
	if err == nil {
		err = writeJSON(s.bootstrapJSON, s.bootstrap)
	}
	s.mu.Unlock()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
	}
	// Entity operator pods that started before the address was known restart with it.
	for _, name := range []string{v1beta1.BinaryTopicOperator, v1beta1.BinaryUserOperator} {
		sel := v1beta1.LabelCluster + "=" + k.Name + "," + v1beta1.LabelAppName + "=" + name
		_ = s.e.Kube.CoreV1().Pods(k.Namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: sel})
	}
}

// snapshot returns bootstrap.json's content.
func (s *standIns) snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.bootstrap {
		out[k] = v
	}
	return out
}

var _ = json.Marshal
