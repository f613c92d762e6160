// Package nodes builds the Kubernetes objects of one Kafka node: its ConfigMap (server.properties
// and the start script that formats storage on first start), its Pod and its PersistentVolumeClaims.
package nodes

import (
	"strconv"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
)

// Component is the app.kubernetes.io/name of Kafka node objects.
const Component = "kafka"

// Node is one node of a cluster with the pool it belongs to.
type Node struct {
	kafkaconfig.Node
	PoolSpec *v1beta1.KafkaNodePool
}

// Name is the node's pod, ConfigMap and certificate Secret name.
func (n Node) Name(cluster string) string { return v1beta1.NodeName(cluster, n.Pool, n.ID) }

// Labels are a node's object labels: the cluster's plus pool, roles and pod name.
func Labels(cluster string, n Node) map[string]string {
	l := ownership.Labels(cluster, v1beta1.KindKafka, cluster, Component)
	l[v1beta1.LabelPool] = n.Pool
	l[v1beta1.LabelBrokerRole] = strconv.FormatBool(n.Broker)
	l[v1beta1.LabelControllerRole] = strconv.FormatBool(n.Controller)
	l[v1beta1.LabelPodName] = n.Name(cluster)
	return l
}

// Selector selects every node pod of a cluster.
func Selector(cluster string) map[string]string {
	return map[string]string{
		v1beta1.LabelCluster: cluster,
		v1beta1.LabelKind:    v1beta1.KindKafka,
		v1beta1.LabelAppName: Component,
	}
}

// BrokerSelector selects the broker pods of a cluster.
func BrokerSelector(cluster string) map[string]string {
	s := Selector(cluster)
	s[v1beta1.LabelBrokerRole] = "true"
	return s
}
