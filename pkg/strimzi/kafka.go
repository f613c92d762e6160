package strimzi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// components of a Strimzi Kafka that Kafkaplane does not run.
var components = map[string]string{
	"cruiseControl": "Cruise Control is not supported yet",
	"kafkaExporter": "Kafka Exporter is not supported yet (the brokers' own metrics are: metricsConfig)",
	"jmxTrans":      "JmxTrans is gone from Strimzi too; use metricsConfig",
}

// zooKeeperOnly are broker config keys that mean nothing (or are refused) in KRaft.
var zooKeeperOnly = []string{"zookeeper.", "inter.broker.protocol.version", "log.message.format.version", "broker.id", "reserved.broker.max.id", "control.plane.listener.name"}

// convertKafka converts a Kafka's spec in place and returns the objects it needs besides
// (KafkaNodePools for a ZooKeeper-era cluster, a ConfigMap for inline metrics).
func convertKafka(o, spec Object, nodePools bool, r *Report) []Object {
	name := str(get(o, "metadata", "name"))
	namespace := str(get(o, "metadata", "namespace"))
	kafka, _ := spec["kafka"].(Object)
	if kafka == nil {
		kafka = Object{}
		spec["kafka"] = kafka
	}
	var extra []Object
	for _, c := range sortedKeys(spec) {
		if why, ok := components[c]; ok {
			delete(spec, c)
			r.drop("spec."+c, why)
		}
	}
	if v := str(kafka["version"]); v != "" && older(v, 4) {
		kafka["version"] = DefaultKafkaVersion
		r.change("spec.kafka.version", fmt.Sprintf("%s predates KRaft-only Kafka 4: %s (read the upgrade notes of Kafka 4.0 before moving a cluster)", v, DefaultKafkaVersion))
		if mv, ok := kafka["metadataVersion"]; ok {
			delete(kafka, "metadataVersion")
			r.drop("spec.kafka.metadataVersion", fmt.Sprintf("%v belongs to the old version", mv))
		}
	}
	for _, k := range []string{"logMessageFormatVersion", "interBrokerProtocolVersion"} {
		if _, ok := kafka[k]; ok {
			delete(kafka, k)
			r.drop("spec.kafka."+k, "ZooKeeper-era setting; KRaft uses metadataVersion")
		}
	}
	if cfg, ok := kafka["config"].(Object); ok {
		for _, k := range sortedKeys(cfg) {
			for _, p := range zooKeeperOnly {
				if k == p || strings.HasSuffix(p, ".") && strings.HasPrefix(k, p) {
					delete(cfg, k)
					r.drop("spec.kafka.config."+k, "ZooKeeper-only or operator-owned in KRaft")
					break
				}
			}
		}
	}
	if _, ok := kafka["tlsSidecar"]; ok {
		delete(kafka, "tlsSidecar")
		r.drop("spec.kafka.tlsSidecar", "the brokers terminate TLS themselves")
	}
	if eo, ok := spec["entityOperator"].(Object); ok {
		if _, ok := eo["tlsSidecar"]; ok {
			delete(eo, "tlsSidecar")
			r.drop("spec.entityOperator.tlsSidecar", "the entity operators connect over TLS themselves")
		}
	}
	if l, ok := kafka["listeners"].(Object); ok {
		kafka["listeners"] = convertListenerMap(l, r)
	}
	if m, ok := kafka["metrics"].(Object); ok {
		delete(kafka, "metrics")
		cm := metricsConfigMap(name+"-kafka-metrics", namespace, m)
		extra = append(extra, cm)
		kafka["metricsConfig"] = Object{"type": "jmxPrometheusExporter", "valueFrom": Object{"configMapKeyRef": Object{"name": name + "-kafka-metrics", "key": metricsKey}}}
		r.change("spec.kafka.metrics", "→ ConfigMap "+name+"-kafka-metrics and spec.kafka.metricsConfig")
	}

	zk, hasZK := spec["zookeeper"].(Object)
	if hasZK {
		delete(spec, "zookeeper")
		r.change("spec.zookeeper", "ZooKeeper becomes a KRaft controller KafkaNodePool "+name+"-controllers ("+fmt.Sprint(replicasOr(zk["replicas"], 3))+" controllers): a new cluster, not a migration of a running one")
		extra = append(extra, pool(name+"-controllers", namespace, name, []any{"controller"}, replicasOr(zk["replicas"], 3), zkStorage(zk["storage"], r), zk["resources"], zk["jvmOptions"]))
		if _, ok := zk["metrics"]; ok {
			r.drop("spec.zookeeper.metrics", "ZooKeeper's metrics")
		}
		if _, ok := zk["metricsConfig"]; ok {
			r.drop("spec.zookeeper.metricsConfig", "ZooKeeper's metrics")
		}
	}
	// Brokers described in spec.kafka (the pre-node-pool form) become a pool; with node pools
	// enabled Strimzi ignores these fields, and so the converter drops them.
	replicas, hasReplicas := kafka["replicas"]
	storage, hasStorage := kafka["storage"]
	if hasReplicas || hasStorage {
		delete(kafka, "replicas")
		delete(kafka, "storage")
		if nodePools {
			r.drop("spec.kafka.replicas/storage", "ignored with node pools (strimzi.io/node-pools: enabled): the KafkaNodePools say")
		} else {
			roles := []any{"broker"}
			if !hasZK {
				r.decide("spec.kafka", "neither node pools nor ZooKeeper: the brokers pool also gets the controller role")
				roles = append(roles, "controller")
			}
			r.change("spec.kafka.replicas/storage", "→ KafkaNodePool "+name+"-brokers")
			extra = append(extra, pool(name+"-brokers", namespace, name, roles, replicasOr(replicas, 3), storage, kafka["resources"], kafka["jvmOptions"]))
			for _, k := range []string{"resources", "jvmOptions"} {
				if _, ok := kafka[k]; ok {
					delete(kafka, k)
					r.change("spec.kafka."+k, "→ KafkaNodePool "+name+"-brokers")
				}
			}
		}
	}
	// Per-node settings at the Kafka level (Strimzi's pre-pool form, still accepted there as
	// defaults for the pools): Kafkaplane takes them on the pools only.
	for _, k := range []string{"resources", "jvmOptions", "livenessProbe", "readinessProbe"} {
		if _, ok := kafka[k]; ok {
			delete(kafka, k)
			r.decide("spec.kafka."+k, "set on each KafkaNodePool's spec instead (Kafkaplane has no cluster-wide default)")
		}
	}
	return extra
}

const metricsKey = "metrics-config.yml"

func metricsConfigMap(name, namespace string, rules Object) Object {
	y, err := marshalYAML(rules)
	if err != nil {
		y = []byte(fmt.Sprint(rules))
	}
	meta := Object{"name": name}
	if namespace != "" {
		meta["namespace"] = namespace
	}
	return Object{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": Object{metricsKey: string(y)}}
}

func pool(name, namespace, cluster string, roles []any, replicas int64, storage, resources, jvm any) Object {
	meta := Object{"name": name, "labels": Object{v1beta1.LabelCluster: cluster}}
	if namespace != "" {
		meta["namespace"] = namespace
	}
	spec := Object{"replicas": replicas, "roles": roles}
	if storage != nil {
		spec["storage"] = storage
	} else {
		spec["storage"] = Object{"type": "ephemeral"}
	}
	if resources != nil {
		spec["resources"] = resources
	}
	if jvm != nil {
		spec["jvmOptions"] = jvm
	}
	return Object{"apiVersion": v1beta1.SchemeGroupVersion.String(), "kind": "KafkaNodePool", "metadata": meta, "spec": spec}
}

// zkStorage is the controllers' storage from ZooKeeper's (persistent-claim or ephemeral).
func zkStorage(s any, r *Report) any {
	m, ok := s.(Object)
	if !ok {
		return nil
	}
	if m["type"] == "jbod" {
		r.decide("spec.zookeeper.storage", "ZooKeeper has no JBOD; the controllers get its first volume")
		if vs := list(m["volumes"]); len(vs) > 0 {
			return vs[0]
		}
	}
	return m
}

func replicasOr(v any, def int64) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	case int:
		return int64(n)
	}
	return def
}

// older reports whether a version such as 3.9.0 has a major below major.
func older(v string, major int) bool {
	m, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(m)
	return err == nil && n < major
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
