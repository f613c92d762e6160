package dynconfig

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// TestServedReadsTheCertificate: Served returns the leaf a listener presents, also on a listener
// that requires a client certificate it is not given (an mTLS listener), and verifies nothing.
func TestServedReadsTheCertificate(t *testing.T) {
	ca, err := pki.NewCA("test-ca", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(pki.Leaf{CommonName: "kafka-external", Server: true, Validity: time.Hour, DNSNames: []string{"elsewhere.example.com"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{MinVersion: tls.VersionTLS12, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
		Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Cert.Raw, ca.Cert.Raw}, PrivateKey: leaf.Key}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	got, err := (&Keystores{}).Served(context.Background(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, leaf.Cert.Raw) {
		t.Fatal("Served returned another certificate than the listener's leaf")
	}
	ln.Close()
	if _, err := (&Keystores{}).Served(context.Background(), ln.Addr().String()); err == nil {
		t.Fatal("Served of a closed listener returned no error")
	}
}

// TestReloadLeavesMetadataAsItWas (kfake, its config requests answered by the test as a KRaft
// broker would): Reload deletes the keystore key from the broker's own dynamic configs, where it
// is not set, and sets it again to its value where Kafka's tools set one: either way a config
// record reaches the broker (which reloads), and no value is lost or left behind.
func TestReloadLeavesMetadataAsItWas(t *testing.T) {
	c := kfake.MustCluster(kfake.NumBrokers(1))
	defer c.Close()
	const key = "listener.name.external-9094.ssl.keystore.location"
	var dynamic *string
	var ops []string
	c.ControlKey(int16(kmsg.DescribeConfigs), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		dreq := req.(*kmsg.DescribeConfigsRequest)
		resp := dreq.ResponseKind().(*kmsg.DescribeConfigsResponse)
		resp.Version = dreq.Version
		for _, r := range dreq.Resources {
			rr := kmsg.NewDescribeConfigsResponseResource()
			rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
			rc := kmsg.NewDescribeConfigsResponseResourceConfig()
			rc.Name, rc.Value, rc.Source = key, kmsg.StringPtr("/opt/kafka/certs/listener-external-9094.pem"), kmsg.ConfigSourceStaticBrokerConfig
			if dynamic != nil {
				rc.Value, rc.Source = dynamic, kmsg.ConfigSourceDynamicBrokerConfig
			}
			rr.Configs = append(rr.Configs, rc)
			resp.Resources = append(resp.Resources, rr)
		}
		return resp, nil, true
	})
	c.ControlKey(int16(kmsg.IncrementalAlterConfigs), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		areq := req.(*kmsg.IncrementalAlterConfigsRequest)
		resp := areq.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
		resp.Version = areq.Version
		for _, r := range areq.Resources {
			for _, rc := range r.Configs {
				op := fmt.Sprintf("%s %s %s", r.ResourceName, rc.Op, rc.Name)
				if rc.Value != nil {
					op += "=" + *rc.Value
				}
				ops = append(ops, op)
			}
			rr := kmsg.NewIncrementalAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
			resp.Resources = append(resp.Resources, rr)
		}
		return resp, nil, true
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	s := &Keystores{Client: func(*v1beta1.Kafka) (*kgo.Client, error) { return cl, nil }}
	k := &v1beta1.Kafka{}
	if err := s.Reload(context.Background(), k, 0, key); err != nil {
		t.Fatal(err)
	}
	dynamic = kmsg.StringPtr("/elsewhere/keystore.pem")
	if err := s.Reload(context.Background(), k, 0, key); err != nil {
		t.Fatal(err)
	}
	want := []string{"0 DELETE " + key, "0 SET " + key + "=/elsewhere/keystore.pem"}
	if fmt.Sprint(ops) != fmt.Sprint(want) {
		t.Fatalf("requests %q, want %q", ops, want)
	}
}
