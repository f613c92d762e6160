package integration

import (
	"fmt"
	"testing"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

func kafka(name, kafkaSpec string) string {
	return fmt.Sprintf(`
apiVersion: kafkaplane.io/v1beta1
kind: Kafka
metadata: {name: %s}
spec:
  kafka:
%s`, name, kafkaSpec)
}

const tlsListener = `    listeners:
      - {name: tls, port: 9093, type: internal, tls: true, authentication: {type: tls}}
`

func pool(storage string) string {
	return `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata: {name: brokers, labels: {kafkaplane.io/cluster: c}}
spec:
  replicas: 3
  roles: [broker]
  storage: ` + storage
}

func topic(spec string) string {
	return `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaTopic
metadata: {name: orders, labels: {kafkaplane.io/cluster: c}}
spec: ` + spec
}

func user(spec string) string {
	return `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaUser
metadata: {name: alice, labels: {kafkaplane.io/cluster: c}}
spec: ` + spec
}

// TestInvalidManifestsRejected applies manifests the schema and its CEL rules must reject, each
// in a fresh namespace; transition cases first apply a valid manifest, then change it.
func TestInvalidManifestsRejected(t *testing.T) {
	f := framework.Get(t)
	cases := []struct {
		name   string
		before string // applied first (must succeed), for transition rules
		yaml   string
		want   string
	}{
		{name: "kafka name too long", yaml: kafka("c23456789012345678901234567890123456", tlsListener),
			want: "at most 35 characters"},
		{name: "kafka name not DNS-1035", yaml: kafka("9cluster", tlsListener), want: "DNS-1035 label"},
		{name: "listener name", yaml: kafka("c", `    listeners: [{name: TLS_1, port: 9093, type: internal, tls: true}]
`), want: "spec.kafka.listeners[0].name"},
		{name: "operator port", yaml: kafka("c", `    listeners: [{name: plain, port: 9091, type: internal, tls: false}]
`), want: "greater than or equal to 9092"},
		{name: "metrics port", yaml: kafka("c", `    listeners: [{name: plain, port: 9404, type: internal, tls: false}]
`), want: "ports 9404 (metrics) and 9999 are reserved"},
		{name: "reserved listener name", yaml: kafka("c", `    listeners: [{name: replication, port: 9093, type: internal, tls: true}]
`), want: "listener names replication, ctrlplane and prometheus are reserved"},
		{name: "duplicate ports", yaml: kafka("c", `    listeners:
      - {name: a, port: 9093, type: internal, tls: false}
      - {name: b, port: 9093, type: internal, tls: true}
`), want: "listener ports must be unique"},
		{name: "duplicate listener names", yaml: kafka("c", `    listeners:
      - {name: a, port: 9093, type: internal, tls: false}
      - {name: a, port: 9094, type: internal, tls: true}
`), want: "duplicate entries for key [name=\"a\"]"},
		{name: "mtls without tls", yaml: kafka("c", `    listeners: [{name: a, port: 9093, type: internal, tls: false, authentication: {type: tls}}]
`), want: "mutual TLS authentication needs tls: true"},
		{name: "listener type", yaml: kafka("c", `    listeners: [{name: a, port: 9093, type: route, tls: true}]
`), want: "Unsupported value: \"route\""},
		{name: "ca renewal after validity", yaml: kafka("c", tlsListener) + `
  clusterCa: {validityDays: 30, renewalDays: 30}
`, want: "renewalDays must be less than validityDays"},

		{name: "persistent claim without size", yaml: pool(`{type: persistent-claim}`), want: "persistent-claim storage needs a size"},
		{name: "jbod without volumes", yaml: pool(`{type: jbod}`), want: "jbod storage takes volumes"},
		{name: "size not a quantity", yaml: pool(`{type: persistent-claim, size: lots}`), want: "size must be a positive quantity"},
		{name: "volume shrinks", before: pool(`{type: persistent-claim, size: 100Gi}`),
			yaml: pool(`{type: persistent-claim, size: 50Gi}`), want: "a persistent volume cannot shrink"},
		{name: "jbod volume shrinks", before: pool(`{type: jbod, volumes: [{id: 0, type: persistent-claim, size: 1Ti}]}`),
			yaml: pool(`{type: jbod, volumes: [{id: 0, type: persistent-claim, size: 500Gi}]}`), want: "a persistent volume cannot shrink"},
		{name: "pool role", yaml: `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata: {name: p}
spec: {replicas: 1, roles: [zookeeper], storage: {type: ephemeral}}
`, want: "Unsupported value: \"zookeeper\""},

		{name: "zero partitions", yaml: topic(`{partitions: 0}`), want: "greater than or equal to 1"},
		{name: "partition decrease", before: topic(`{partitions: 6}`), yaml: topic(`{partitions: 3}`),
			want: "partitions cannot be decreased"},
		{name: "topicName change", before: topic(`{topicName: Orders.v1}`), yaml: topic(`{topicName: Orders.v2}`),
			want: "spec.topicName cannot change"},
		{name: "topicName added later", before: topic(`{partitions: 1}`), yaml: topic(`{partitions: 1, topicName: other}`),
			want: "spec.topicName cannot change"},
		{name: "topicName characters", yaml: topic(`{topicName: "a/b"}`), want: "spec.topicName"},
		{name: "topicName dot", yaml: topic(`{topicName: ".."}`), want: "'.' and '..' are not topic names"},

		{name: "scram with certificate", yaml: user(`{authentication: {type: scram-sha-512, certificate: {validityDays: 10}}}`),
			want: "certificate settings are only for tls users"},
		{name: "tls with password", yaml: user(`{authentication: {type: tls, password: {valueFrom: {secretKeyRef: {name: s, key: k}}}}}`),
			want: "password is only for scram-sha-512 users"},
		{name: "group acl operation", yaml: user(`{authorization: {type: simple, acls: [{resource: {type: group, name: g}, operations: [Write]}]}}`),
			want: "group ACLs take Read, Delete, Describe or All"},
		{name: "transactional id acl operation", yaml: user(`{authorization: {type: simple, acls: [{resource: {type: transactionalId, name: t}, operations: [Read]}]}}`),
			want: "transactionalId ACLs take Describe, Write or All"},
		{name: "cluster acl with name", yaml: user(`{authorization: {type: simple, acls: [{resource: {type: cluster, name: x}, operations: [Alter]}]}}`),
			want: "the cluster resource takes none"},
		{name: "topic acl without name", yaml: user(`{authorization: {type: simple, acls: [{resource: {type: topic}, operations: [Read]}]}}`),
			want: "need a name"},
		{name: "negative quota", yaml: user(`{quotas: {producerByteRate: -1}}`), want: "greater than or equal to 0"},
		{name: "acl with operation and operations", yaml: user(`{authorization: {type: simple, acls: [{resource: {type: topic, name: t}, operation: Read, operations: [Write]}]}}`),
			want: "an ACL rule takes operations (a list) or operation"},
		{name: "acl without operation", yaml: user(`{authorization: {type: simple, acls: [{resource: {type: topic, name: t}}]}}`),
			want: "an ACL rule takes operations (a list) or operation"},
		{name: "group acl singular operation", yaml: user(`{authorization: {type: simple, acls: [{resource: {type: group, name: g}, operation: Write}]}}`),
			want: "group ACLs take Read, Delete, Describe or All"},
		{name: "ingress without tls", yaml: kafka("c", `    listeners: [{name: ext, port: 9094, type: ingress, tls: false}]
`), want: "an ingress listener needs tls: true"},
		{name: "listener certificate without tls", yaml: kafka("c", `    listeners: [{name: ext, port: 9094, type: internal, tls: false, configuration: {brokerCertChainAndKey: {secretName: s, certificate: tls.crt, key: tls.key}}}]
`), want: "configuration.brokerCertChainAndKey needs tls: true"},
		{name: "listener certificate without key", yaml: kafka("c", `    listeners: [{name: ext, port: 9094, type: internal, tls: true, configuration: {brokerCertChainAndKey: {secretName: s, certificate: tls.crt}}}]
`), want: "spec.kafka.listeners[0].configuration.brokerCertChainAndKey.key: Required value"},
		{name: "cert-manager listener without tls", yaml: kafka("c", `    listeners: [{name: ext, port: 9094, type: internal, tls: false, configuration: {certManager: {issuerRef: {name: i}}}}]
`), want: "configuration.certManager needs tls: true"},
		{name: "cert-manager listener with its own certificate too", yaml: kafka("c", `    listeners: [{name: ext, port: 9094, type: internal, tls: true, configuration: {certManager: {issuerRef: {name: i}}, brokerCertChainAndKey: {secretName: s, certificate: tls.crt, key: tls.key}}}]
`), want: "configuration.certManager and configuration.brokerCertChainAndKey are exclusive"},
		{name: "cert-manager listener without issuer name", yaml: kafka("c", `    listeners: [{name: ext, port: 9094, type: internal, tls: true, configuration: {certManager: {issuerRef: {kind: ClusterIssuer}}}}]
`), want: "spec.kafka.listeners[0].configuration.certManager.issuerRef.name: Required value"},
		{name: "liveness success threshold", yaml: kafka("c", tlsListener+`    livenessProbe: {successThreshold: 2}
`), want: "a liveness probe's successThreshold must be 1"},
		{name: "probe timeout zero", yaml: kafka("c", tlsListener+`    readinessProbe: {timeoutSeconds: 0}
`), want: "spec.kafka.readinessProbe.timeoutSeconds"},
		{name: "metadata version form", yaml: kafka("c", tlsListener+`    metadataVersion: 4.1-latest
`), want: "spec.kafka.metadataVersion"},
		{name: "version form", yaml: kafka("c", tlsListener+`    version: "4.1"
`), want: "spec.kafka.version"},
		{name: "inline logging with valueFrom", yaml: kafka("c", tlsListener+`    logging: {type: inline, valueFrom: {configMapKeyRef: {name: l, key: k}}}
`), want: "inline logging takes loggers; external logging takes valueFrom"},
		{name: "external logging without valueFrom", yaml: kafka("c", tlsListener+`    logging: {type: external}
`), want: "inline logging takes loggers; external logging takes valueFrom"},
		{name: "authorization type", yaml: kafka("c", tlsListener+`    authorization: {type: opa}
`), want: "Unsupported value: \"opa\""},
		{name: "jvm heap form", yaml: kafka("c", tlsListener+`    jvmOptions: {-Xmx: 2 GB}
`), want: "spec.kafka.jvmOptions.-Xmx"},
		{name: "external traffic policy", yaml: kafka("c", `    listeners: [{name: ext, port: 9094, type: nodeport, tls: true, configuration: {externalTrafficPolicy: Nearest}}]
`), want: "Unsupported value: \"Nearest\""},
		{name: "metrics exporter type", yaml: kafka("c", tlsListener+`    metricsConfig: {type: jmxExporter, valueFrom: {configMapKeyRef: {name: m, key: k}}}
`), want: "Unsupported value: \"jmxExporter\""},
		{name: "empty rack topology key", yaml: kafka("c", tlsListener+`    rack: {topologyKey: ""}
`), want: "spec.kafka.rack.topologyKey"},
		{name: "ca expiration policy", yaml: kafka("c", tlsListener) + `
  clientsCa: {certificateExpirationPolicy: renew-key}
`, want: "Unsupported value: \"renew-key\""},
		{name: "user secret prefix", yaml: kafka("c", tlsListener) + `
  entityOperator: {userOperator: {secretPrefix: Kafka_}}
`, want: "spec.entityOperator.userOperator.secretPrefix"},
		{name: "entity operator log level", yaml: kafka("c", tlsListener) + `
  entityOperator: {topicOperator: {logLevel: VERBOSE}}
`, want: "Unsupported value: \"VERBOSE\""},
		{name: "pool name too long", yaml: `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata: {name: p1234567890123456789012345678901234567890}
spec: {replicas: 1, roles: [broker], storage: {type: ephemeral}}
`, want: "a pool name is a DNS label of at most 40 characters"},
		{name: "negative replicas", yaml: `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaNodePool
metadata: {name: p}
spec: {replicas: -1, roles: [broker], storage: {type: ephemeral}}
`, want: "spec.replicas"},
		{name: "size limit on a claim", yaml: pool(`{type: persistent-claim, size: 1Gi, sizeLimit: 1Gi}`), want: "sizeLimit is for ephemeral storage"},
		{name: "jbod volume type change", before: pool(`{type: jbod, volumes: [{id: 0, type: persistent-claim, size: 1Gi}]}`),
			yaml: pool(`{type: jbod, volumes: [{id: 0, type: ephemeral}]}`), want: "a volume's type cannot change"},
		{name: "user name too long", yaml: `
apiVersion: kafkaplane.io/v1beta1
kind: KafkaUser
metadata: {name: u12345678901234567890123456789012345678901234567890123456789012345, labels: {kafkaplane.io/cluster: c}}
spec: {authentication: {type: tls}}
`, want: "a user name has at most 64 characters"},
		{name: "user certificate renewal", yaml: user(`{authentication: {type: tls, certificate: {validityDays: 10, renewalDays: 10}}}`),
			want: "renewalDays must be less than validityDays"},
		{name: "cluster acl operation", yaml: user(`{authorization: {type: simple, acls: [{resource: {type: cluster}, operations: [Read]}]}}`),
			want: "cluster ACLs take"},
		{name: "unknown singular operation", yaml: user(`{authorization: {type: simple, acls: [{resource: {type: topic, name: t}, operation: Fly}]}}`),
			want: "Unsupported value: \"Fly\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := f.Namespace(t)
			if tc.before != "" {
				if _, err := f.ApplyObject(t.Context(), ns, obj(t, tc.before)); err != nil {
					t.Fatalf("the valid manifest before the change was rejected: %v", err)
				}
			}
			expectRejected(t, f, ns, tc.yaml, tc.want)
		})
	}
}

// TestValidTransitionsAccepted checks the transition rules let legitimate changes through.
func TestValidTransitionsAccepted(t *testing.T) {
	f := framework.Get(t)
	ns := f.Namespace(t)
	for _, step := range []string{
		topic(`{partitions: 3, config: {retention.ms: 1000, cleanup.policy: compact, unclean.leader.election.enable: false}}`),
		topic(`{partitions: 6}`),
		pool(`{type: persistent-claim, size: 100Gi}`),
		pool(`{type: persistent-claim, size: 200Gi}`),
		user(`{authentication: {type: scram-sha-512}, quotas: {controllerMutationRate: 500m}}`),
		// Strimzi's forms: a number rate and a singular ACL operation.
		user(`{authentication: {type: scram-sha-512}, quotas: {controllerMutationRate: 0.5}}`),
		user(`{authorization: {type: simple, acls: [{resource: {type: topic, name: t}, operation: Read}, {resource: {type: cluster}, operation: IdempotentWrite}]}}`),
	} {
		if _, err := f.ApplyObject(t.Context(), ns, obj(t, step)); err != nil {
			t.Errorf("rejected: %v\n%s", err, step)
		}
	}
}
