package clusters

import (
	"fmt"
	"regexp"
	"slices"
	"sort"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/logging"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/services"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// rackTopologyKeys are the node labels the API server copies onto pods at binding (the
// PodTopologyLabels admission plugin), which the downward API then exposes to broker.rack.
var rackTopologyKeys = []string{"topology.kubernetes.io/zone", "topology.kubernetes.io/region"}

// validate returns what is wrong with a Kafka and its pools that the CRD schema cannot reject,
// sorted; nothing is changed while there is any.
// maxNodeID is the largest node ID a pool's name is checked with: IDs are assigned from 0 and
// stay below this for any cluster this operator is meant for.
const maxNodeID = 99999

// nameLengths refuses cluster and pool names whose node pod hostnames, or per-broker Service
// names of external listeners, would exceed a DNS label's 63 characters: the API server would
// refuse the pods (or Services), or worse, only once a node ID grows.
func nameLengths(k *v1beta1.Kafka, pools []*v1beta1.KafkaNodePool) []string {
	var problems []string
	for _, p := range pools {
		if n := v1beta1.NodeName(k.Name, p.Name, maxNodeID); len(n) > 63 {
			problems = append(problems, fmt.Sprintf("pool %s: node names such as %s would be %d characters, over a DNS label's 63: shorten the Kafka's or the pool's name",
				p.Name, n, len(n)))
			continue
		}
		if !slices.Contains(p.Spec.Roles, v1beta1.RoleBroker) {
			continue
		}
		for _, l := range k.Spec.Kafka.Listeners {
			if l.Type == v1beta1.ListenerInternal || l.Type == v1beta1.ListenerClusterIP {
				continue
			}
			if n := v1beta1.PerBrokerServiceName(k.Name, p.Name, l.Name, maxNodeID); len(n) > 63 {
				problems = append(problems, fmt.Sprintf("pool %s, listener %s: per-broker Service names such as %s would be %d characters, over 63: shorten the Kafka's, the pool's or the listener's name",
					p.Name, l.Name, n, len(n)))
			}
		}
	}
	return problems
}

func validate(k *v1beta1.Kafka, pools []*v1beta1.KafkaNodePool) []string {
	problems := kafkaconfig.ValidateUserConfig(k.Spec.Kafka.Config)
	var brokers, controllers bool
	for _, p := range pools {
		if p.Spec.Replicas == 0 {
			continue
		}
		brokers = brokers || slices.Contains(p.Spec.Roles, v1beta1.RoleBroker)
		controllers = controllers || slices.Contains(p.Spec.Roles, v1beta1.RoleController)
	}
	if len(pools) == 0 {
		problems = append(problems, fmt.Sprintf("no KafkaNodePool is labelled %s=%s", v1beta1.LabelCluster, k.Name))
	} else {
		if !brokers {
			problems = append(problems, "no KafkaNodePool with replicas has the broker role")
		}
		if !controllers {
			problems = append(problems, "no KafkaNodePool with replicas has the controller role")
		}
	}
	problems = append(problems, nameLengths(k, pools)...)
	for _, l := range k.Spec.Kafka.Listeners {
		if l.Type == v1beta1.ListenerIngress {
			if !l.TLS {
				problems = append(problems, fmt.Sprintf("listener %s: an ingress listener needs tls: true (the ingress passes TLS through to the brokers)", l.Name))
			}
			if services.BootstrapHost(l) == "" {
				problems = append(problems, fmt.Sprintf("listener %s: an ingress listener needs configuration.bootstrap.host", l.Name))
			}
			if l.Configuration == nil || l.Configuration.HostTemplate == "" && len(l.Configuration.Brokers) == 0 {
				problems = append(problems, fmt.Sprintf("listener %s: an ingress listener needs configuration.hostTemplate or a host per broker", l.Name))
			}
		}
	}
	if r := k.Spec.Kafka.Rack; r != nil && !slices.Contains(rackTopologyKeys, r.TopologyKey) {
		problems = append(problems, fmt.Sprintf("rack.topologyKey %q: only %v are supported (they reach pods through the downward API)", r.TopologyKey, rackTopologyKeys))
	}
	// Not implemented yet: refused rather than silently ignored.
	if m := k.Spec.Kafka.MetricsConfig; m != nil && m.Type != "jmxPrometheusExporter" {
		problems = append(problems, fmt.Sprintf("spec.kafka.metricsConfig.type %q is not supported; use jmxPrometheusExporter", m.Type))
	}
	if err := logging.Validate(k.Spec.Kafka.Logging); err != nil {
		problems = append(problems, err.Error())
	}
	if ke := k.Spec.KafkaExporter; ke != nil {
		if k.Spec.EntityOperator == nil || k.Spec.EntityOperator.TopicOperator == nil {
			problems = append(problems, "kafkaExporter needs entityOperator.topicOperator: the topic operator serves the consumer-lag metrics")
		}
		for field, re := range map[string]string{"groupRegex": ke.GroupRegex, "topicRegex": ke.TopicRegex} {
			if _, err := regexp.Compile(re); err != nil {
				problems = append(problems, fmt.Sprintf("kafkaExporter.%s %q: %v", field, re, err))
			}
		}
	}
	if a := k.Spec.Kafka.Authorization; a != nil && a.Type != "simple" {
		problems = append(problems, fmt.Sprintf("authorization.type %q is not supported; use simple", a.Type))
	}
	sort.Strings(problems)
	return problems
}
