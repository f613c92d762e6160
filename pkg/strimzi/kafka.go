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
	convertKafkaExporter(spec, r)
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
		controllers := pool(name+"-controllers", namespace, name, []any{"controller"}, replicasOr(zk["replicas"], 3), zkStorage(zk["storage"], r), zk["resources"], zk["jvmOptions"])
		extra = append(extra, controllers)
		// ZooKeeper's pod and PVC templates apply to the controllers that replace it; the rest of
		// its spec is ZooKeeper's own.
		for _, k := range sortedKeys(zk) {
			switch k {
			case "replicas", "storage", "resources", "jvmOptions":
			case "template":
				t, _ := zk[k].(Object)
				own := Object{}
				for _, tk := range sortedKeys(t) {
					switch tk {
					case "pod", "persistentVolumeClaim":
						own[tk] = t[tk]
						r.change("spec.zookeeper.template."+tk, "→ KafkaNodePool "+name+"-controllers template."+tk)
					case "zookeeperContainer":
						own["kafkaContainer"] = t[tk]
						r.change("spec.zookeeper.template."+tk, "→ KafkaNodePool "+name+"-controllers template.kafkaContainer")
					default:
						r.drop("spec.zookeeper.template."+tk, "ZooKeeper's own object")
					}
				}
				if len(own) > 0 {
					controllers["spec"].(Object)["template"] = own
				}
			case "metrics", "metricsConfig":
				r.drop("spec.zookeeper."+k, "ZooKeeper's metrics")
			default:
				r.drop("spec.zookeeper."+k, "ZooKeeper's own setting")
			}
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
	if eo, ok := spec["entityOperator"].(Object); ok {
		convertEntityTemplate(eo, r)
		for _, op := range []string{"topicOperator", "userOperator"} {
			if o, ok := eo[op].(Object); ok {
				if v, ok := o["reconciliationIntervalSeconds"]; ok {
					delete(o, "reconciliationIntervalSeconds")
					if secs, ok := v.(float64); ok {
						o["reconciliationIntervalMs"] = int64(secs * 1000)
						r.change("spec.entityOperator."+op+".reconciliationIntervalSeconds", "→ reconciliationIntervalMs")
					}
				}
			}
		}
	}
	if l, ok := kafka["logging"].(Object); ok {
		convertLogging(l, r)
	}
	return extra
}

// convertLogging turns inline loggers of log4j 1's form (Kafka 3 and earlier:
// kafka.root.logger.level, log4j.logger.<name>) into log4j2's (rootLogger.level,
// logger.<id>.name and logger.<id>.level), which Kafka 4 reads.
func convertLogging(l Object, r *Report) {
	if t, _ := l["type"].(string); t == "external" {
		r.decide("spec.kafka.logging.valueFrom", "the ConfigMap must hold a log4j2 properties file: Kafka 4 no longer reads log4j 1 configuration")
		return
	}
	loggers, ok := l["loggers"].(Object)
	if !ok {
		return
	}
	out := Object{}
	n := 0
	for _, k := range sortedKeys(loggers) {
		v := loggers[k]
		switch {
		case k == "kafka.root.logger.level" || k == "log4j.rootLogger":
			level, _, _ := strings.Cut(fmt.Sprint(v), ",") // log4j.rootLogger: INFO, CONSOLE
			out["rootLogger.level"] = strings.TrimSpace(level)
			r.change("spec.kafka.logging.loggers."+k, "→ rootLogger.level (log4j2)")
		case strings.HasPrefix(k, "log4j.logger."):
			id := fmt.Sprintf("l%d", n)
			n++
			out["logger."+id+".name"] = strings.TrimPrefix(k, "log4j.logger.")
			out["logger."+id+".level"] = fmt.Sprint(v)
			r.change("spec.kafka.logging.loggers."+k, "→ logger."+id+".name/level (log4j2)")
		default:
			out[k] = v
		}
	}
	l["loggers"] = out
}

// convertEntityTemplate splits Strimzi's entityOperator.template (one Deployment for both
// operators) into each operator's own template: Kafkaplane runs them as two Deployments.
func convertEntityTemplate(eo Object, r *Report) {
	t, ok := eo["template"].(Object)
	if !ok {
		return
	}
	delete(eo, "template")
	for _, op := range []struct{ name, container, roleBinding string }{
		{"topicOperator", "topicOperatorContainer", "topicOperatorRoleBinding"},
		{"userOperator", "userOperatorContainer", "userOperatorRoleBinding"},
	} {
		spec, ok := eo[op.name].(Object)
		if !ok {
			continue
		}
		own := Object{}
		for _, k := range []string{"deployment", "pod", "serviceAccount"} {
			if v, ok := t[k]; ok {
				own[k] = deepCopy(v)
			}
		}
		if v, ok := t[op.container]; ok {
			own["container"] = deepCopy(v)
		}
		if len(own) > 0 {
			spec["template"] = own
			r.change("spec.entityOperator.template", "→ spec.entityOperator."+op.name+".template (each operator has its own Deployment)")
		}
	}
	for _, k := range sortedKeys(t) {
		switch k {
		case "deployment", "pod", "serviceAccount", "topicOperatorContainer", "userOperatorContainer":
		default:
			r.drop("spec.entityOperator.template."+k, "no template for it here")
		}
	}
}

// deepCopy copies a decoded YAML value, so that two operators' templates do not share maps.
func deepCopy(v any) any {
	switch x := v.(type) {
	case Object:
		out := Object{}
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
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

// convertKafkaExporter keeps Kafka Exporter's selection: the topic operator serves the consumer
// lag itself, with Kafka Exporter's metric names. The rest configured its own Deployment.
func convertKafkaExporter(spec Object, r *Report) {
	ke, ok := spec["kafkaExporter"].(Object)
	if !ok {
		return
	}
	for _, f := range sortedKeys(ke) {
		switch f {
		case "groupRegex", "topicRegex":
		default:
			delete(ke, f)
			r.drop("spec.kafkaExporter."+f, "no Kafka Exporter Deployment: the topic operator exports the consumer lag")
		}
	}
	r.change("spec.kafkaExporter", "consumer lag is served by the topic operator's /metrics (Kafka Exporter's metric names)")
	if eo, _ := spec["entityOperator"].(Object); eo == nil || eo["topicOperator"] == nil {
		r.decide("spec.kafkaExporter", "needs entityOperator.topicOperator, which serves the lag: add one, or remove kafkaExporter")
	}
}
