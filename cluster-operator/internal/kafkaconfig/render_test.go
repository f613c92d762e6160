package kafkaconfig

import (
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

func props(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		out[k] = v
	}
	return out
}

func example() Input {
	controllers := []Node{{ID: 0, Pool: "controllers", Controller: true}, {ID: 1, Pool: "controllers", Controller: true}, {ID: 2, Pool: "controllers", Controller: true}}
	return Input{
		Cluster: "my-tls-cluster", Namespace: "tls-kafka",
		Node:        Node{ID: 3, Pool: "brokers", Broker: true},
		Controllers: controllers,
		Listeners: []v1beta1.GenericKafkaListener{
			{Name: "tls", Port: 9093, Type: v1beta1.ListenerInternal, TLS: true, Authentication: &v1beta1.ListenerAuthentication{Type: v1beta1.ListenerAuthTLS}},
			{Name: "scram", Port: 9094, Type: v1beta1.ListenerInternal, TLS: false, Authentication: &v1beta1.ListenerAuthentication{Type: v1beta1.ListenerAuthScramSha512}},
		},
		Authorization:      &v1beta1.KafkaAuthorization{Type: "simple", SuperUsers: []string{"User:CN=admin"}},
		OperatorPrincipals: []string{"User:CN=my-tls-cluster-kafka", "User:CN=my-tls-cluster-entity-topic-operator"},
		Storage: v1beta1.Storage{Type: v1beta1.StorageJBOD, Volumes: []v1beta1.JBODVolume{
			{ID: 0, Type: v1beta1.StoragePersistentClaim, Size: "10Gi", KRaftMetadata: "shared"},
			{ID: 1, Type: v1beta1.StoragePersistentClaim, Size: "10Gi"}}},
		UserConfig: map[string]v1beta1.ConfigValue{"min.insync.replicas": "2", "default.replication.factor": "3"},
	}
}

func TestBrokerConfig(t *testing.T) {
	out, err := Render(example())
	if err != nil {
		t.Fatal(err)
	}
	p := props(t, out)
	host := "my-tls-cluster-brokers-3.my-tls-cluster-kafka-brokers.tls-kafka.svc"
	want := map[string]string{
		"process.roles":                                          "broker",
		"node.id":                                                "3",
		"controller.listener.names":                              "CONTROLPLANE-9090",
		"inter.broker.listener.name":                             "REPLICATION-9091",
		"listeners":                                              "REPLICATION-9091://0.0.0.0:9091,TLS-9093://0.0.0.0:9093,SCRAM-9094://0.0.0.0:9094",
		"advertised.listeners":                                   "REPLICATION-9091://" + host + ":9091,TLS-9093://" + host + ":9093,SCRAM-9094://" + host + ":9094",
		"listener.security.protocol.map":                         "CONTROLPLANE-9090:SSL,REPLICATION-9091:SSL,SCRAM-9094:SASL_PLAINTEXT,TLS-9093:SSL",
		"controller.quorum.bootstrap.servers":                    "my-tls-cluster-controllers-0.my-tls-cluster-kafka-brokers.tls-kafka.svc:9090,my-tls-cluster-controllers-1.my-tls-cluster-kafka-brokers.tls-kafka.svc:9090,my-tls-cluster-controllers-2.my-tls-cluster-kafka-brokers.tls-kafka.svc:9090",
		"listener.name.tls-9093.ssl.client.auth":                 "required",
		"listener.name.tls-9093.ssl.truststore.location":         ClientsCATrust,
		"listener.name.tls-9093.ssl.keystore.type":               "PEM",
		"listener.name.replication-9091.ssl.client.auth":         "required",
		"listener.name.replication-9091.ssl.truststore.location": ClusterCATrust,
		"listener.name.scram-9094.sasl.enabled.mechanisms":       "SCRAM-SHA-512",
		"authorizer.class.name":                                  "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"super.users":                                            "User:CN=my-tls-cluster-kafka;User:CN=my-tls-cluster-entity-topic-operator;User:CN=admin",
		"log.dirs":                                               "/var/lib/kafka/data-0/kafka-log3,/var/lib/kafka/data-1/kafka-log3",
		"metadata.log.dir":                                       "/var/lib/kafka/data-0/kafka-log3",
		"min.insync.replicas":                                    "2",
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q", k, p[k], v)
		}
	}
	if _, ok := p["listener.name.scram-9094.ssl.keystore.location"]; ok {
		t.Error("a listener without TLS got a keystore")
	}
}

func TestControllerConfig(t *testing.T) {
	in := example()
	in.Node = in.Controllers[1]
	in.Storage = v1beta1.Storage{Type: v1beta1.StoragePersistentClaim, Size: "10Gi"}
	out, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	p := props(t, out)
	if p["process.roles"] != "controller" || p["listeners"] != "CONTROLPLANE-9090://0.0.0.0:9090" {
		t.Errorf("controller: roles %q listeners %q", p["process.roles"], p["listeners"])
	}
	if p["advertised.listeners"] != "CONTROLPLANE-9090://my-tls-cluster-controllers-1.my-tls-cluster-kafka-brokers.tls-kafka.svc:9090" {
		t.Errorf("advertised.listeners = %q", p["advertised.listeners"])
	}
	if _, ok := p["inter.broker.listener.name"]; ok {
		t.Error("a controller-only node got broker listeners")
	}
	if p["log.dirs"] != "/var/lib/kafka/data/kafka-log1" || p["metadata.log.dir"] != "" {
		t.Errorf("log.dirs %q metadata.log.dir %q", p["log.dirs"], p["metadata.log.dir"])
	}
}

func TestOwnedKeysRejected(t *testing.T) {
	for key, owned := range map[string]bool{
		"listeners": true, "advertised.listeners": true, "listener.name.x.ssl.keystore.location": true,
		"ssl.keystore.location": true, "sasl.enabled.mechanisms": true, "node.id": true, "process.roles": true,
		"log.dirs": true, "super.users": true, "authorizer.class.name": true, "controller.quorum.voters": true,
		"broker.rack": true, "security.inter.broker.protocol": true,
		"ssl.cipher.suites": false, "log.retention.ms": false, "min.insync.replicas": false,
		"controller.quorum.election.timeout.ms": false, "log.dir.failure.timeout.ms": false,
		"num.partitions": false, "portal": false,
	} {
		if Owned(key) != owned {
			t.Errorf("Owned(%q) = %v, want %v", key, !owned, owned)
		}
	}
	// A security key refuses the Kafka: ignoring it would leave access wider than asked.
	for key, refused := range map[string]bool{
		"ssl.client.auth": true, "sasl.enabled.mechanisms": true, "authorizer.class.name": true, "super.users": true,
		"security.inter.broker.protocol": true, "principal.builder.class": true,
		"listener.name.tls-9093.ssl.client.auth": true, "listener.name.x.scram-sha-512.sasl.jaas.config": true,
		"listeners": false, "advertised.listeners": false, "node.id": false, "broker.rack": false, "log.dirs": false,
		"listener.name.x.max.connections": false, "zookeeper.connect": false, "cluster.id": false,
		"log.retention.ms": false, "ssl.cipher.suites": false,
	} {
		if Refused(key) != refused {
			t.Errorf("Refused(%q) = %v, want %v", key, !refused, refused)
		}
	}
	in := example()
	in.UserConfig = map[string]v1beta1.ConfigValue{"ssl.client.auth": "none", "log.retention.ms": "1"}
	if _, err := Render(in); err == nil || !strings.Contains(err.Error(), "spec.kafka.config.ssl.client.auth is set by the operator") {
		t.Fatalf("Render with a refused key: %v", err)
	}
	// Another owned key is left out, with the user's other keys applied.
	in.UserConfig = map[string]v1beta1.ConfigValue{"listeners": "PLAINTEXT://:9092", "broker.rack": "x", "log.retention.ms": "1"}
	props, err := Render(in)
	if err != nil {
		t.Fatalf("Render with an ignored key: %v", err)
	}
	if strings.Contains(props, "PLAINTEXT://:9092") || strings.Contains(props, "broker.rack=x") || !strings.Contains(props, "log.retention.ms=1") {
		t.Errorf("ignored keys applied, or the user's key lost:\n%s", props)
	}
	if got := Ignored(in.UserConfig); strings.Join(got, ",") != "broker.rack,listeners" {
		t.Errorf("Ignored = %v", got)
	}
	if static, dynamic := SplitDynamic(map[string]v1beta1.ConfigValue{"listener.name.x.max.connections": "5", "min.insync.replicas": "2"}); len(static) != 0 || len(dynamic) != 1 {
		t.Errorf("SplitDynamic kept an ignored key: %v %v", static, dynamic)
	}
}

func TestExternalAndOverriddenAddresses(t *testing.T) {
	in := example()
	in.Listeners = append(in.Listeners,
		v1beta1.GenericKafkaListener{Name: "external", Port: 9095, Type: v1beta1.ListenerLoadBalancer, TLS: true},
		v1beta1.GenericKafkaListener{Name: "cip", Port: 9096, Type: v1beta1.ListenerClusterIP, TLS: true,
			Configuration: &v1beta1.ListenerConfiguration{Brokers: []v1beta1.ListenerBrokerOverride{{Broker: 3, AdvertisedPort: ptr.To[int32](443)}}}})
	if _, err := Render(in); err == nil || !strings.Contains(err.Error(), "external address of node 3 is not known yet") {
		t.Fatalf("Render without the external address: %v", err)
	}
	in.External = map[string]Address{"external": {Host: "203.0.113.7", Port: 9095}}
	out, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	adv := props(t, out)["advertised.listeners"]
	for _, want := range []string{"EXTERNAL-9095://203.0.113.7:9095", "CIP-9096://my-tls-cluster-brokers-cip-3.tls-kafka.svc:443"} {
		if !strings.Contains(adv, want) {
			t.Errorf("advertised.listeners %q lacks %q", adv, want)
		}
	}
}

func TestRenderIsDeterministicAndHashed(t *testing.T) {
	a, _ := Render(example())
	b, _ := Render(example())
	if a != b || Hash([]byte(a)) != Hash([]byte(b)) {
		t.Fatal("the same input rendered differently")
	}
	in := example()
	in.UserConfig["num.io.threads"] = "16"
	c, _ := Render(in)
	if Hash([]byte(a)) == Hash([]byte(c)) {
		t.Error("a config change kept the hash")
	}
	if Hash([]byte("ab"), []byte("c")) == Hash([]byte("a"), []byte("bc")) {
		t.Error("Hash is ambiguous across part boundaries")
	}
	if got := escape(`a=b:c d\e`, true); got != `a\=b\:c\ d\\e` {
		t.Errorf("escape = %q", got)
	}
}

// TestSuperUsersInStrimziForm: super users written as Strimzi writes them (CN=admin, no User:
// prefix) become Kafka principals; before, super.users held an entry Kafka cannot parse.
func TestSuperUsersInStrimziForm(t *testing.T) {
	in := example()
	in.Authorization = &v1beta1.KafkaAuthorization{Type: "simple", SuperUsers: []string{"CN=admin", "User:root", "ops"}}
	out, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	got := props(t, out)["super.users"]
	for _, want := range []string{"User:CN=admin", "User:root", "User:ops"} {
		if !strings.Contains(";"+got+";", ";"+want+";") {
			t.Errorf("super.users %q lacks %s", got, want)
		}
	}
	if strings.Contains(";"+got, ";CN=") || strings.Contains(got, "User:User:") {
		t.Errorf("super.users %q", got)
	}
}
