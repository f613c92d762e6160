package kafkaconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Paths inside the Kafka container where the pod template mounts the node's material.
const (
	// CertsDir holds the node's certificate Secret.
	CertsDir = "/opt/kafka/certs"
	// NodeKeystore is the node's private key followed by its certificate chain (PEM).
	NodeKeystore = CertsDir + "/node.pem"
	// ClusterCATrust and ClientsCATrust are the CA certificates the node trusts (every current
	// certificate of each CA: two during a key replacement).
	ClusterCATrust = CertsDir + "/cluster-ca.crt"
	ClientsCATrust = CertsDir + "/clients-ca.crt"
	// DataRoot holds the data volumes: /var/lib/kafka/data (single volume) or
	// /var/lib/kafka/data-<id> (JBOD).
	DataRoot = "/var/lib/kafka"
	// ControlPlaneListener and ReplicationListener are the operator's own listeners.
	ControlPlaneListener = "CONTROLPLANE-9090"
	ReplicationListener  = "REPLICATION-9091"
)

// Node is one Kafka node.
type Node struct {
	ID                 int32
	Pool               string
	Broker, Controller bool
}

// Address is a host and port a node advertises.
type Address struct {
	Host string
	Port int32
}

// Input is everything one node's configuration depends on.
type Input struct {
	Cluster, Namespace string
	Node               Node
	// Controllers are every controller node of the cluster (the quorum).
	Controllers []Node
	Listeners   []v1beta1.GenericKafkaListener
	// External are this node's advertised addresses on nodeport, loadbalancer and ingress
	// listeners, by listener name, known once their services exist.
	External      map[string]Address
	Authorization *v1beta1.KafkaAuthorization
	// OperatorPrincipals are the principals of the operators and the nodes, always super users.
	OperatorPrincipals []string
	Storage            v1beta1.Storage
	UserConfig         map[string]v1beta1.ConfigValue
}

// ListenerName is the Kafka listener name of a user listener, e.g. TLS-9093.
func ListenerName(l v1beta1.GenericKafkaListener) string {
	return strings.ToUpper(l.Name) + "-" + strconv.Itoa(int(l.Port))
}

// NodeHost is a node's stable DNS name through the headless brokers service.
func NodeHost(cluster, namespace string, n Node, clusterDomain bool) string {
	h := v1beta1.NodeName(cluster, n.Pool, n.ID) + "." + v1beta1.BrokersServiceName(cluster) + "." + namespace + ".svc"
	if clusterDomain {
		h += ".cluster.local"
	}
	return h
}

// Render returns the node's server.properties, keys sorted, and an error naming every problem
// (invalid user config, an external address not known yet).
func Render(in Input) (string, error) {
	if problems := ValidateUserConfig(in.UserConfig); len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	p := map[string]string{}
	for k, v := range usable(in.UserConfig) {
		p[k] = v.String()
	}
	var roles []string
	if in.Node.Broker {
		roles = append(roles, "broker")
	}
	if in.Node.Controller {
		roles = append(roles, "controller")
	}
	if len(roles) == 0 {
		return "", fmt.Errorf("node %d has no role", in.Node.ID)
	}
	p["process.roles"] = strings.Join(roles, ",")
	p["node.id"] = strconv.Itoa(int(in.Node.ID))

	var voters []string
	for _, c := range in.Controllers {
		voters = append(voters, NodeHost(in.Cluster, in.Namespace, c, false)+":"+strconv.Itoa(v1beta1.PortControlPlane))
	}
	sort.Strings(voters)
	if len(voters) == 0 {
		return "", errors.New("the cluster has no controller")
	}
	p["controller.quorum.bootstrap.servers"] = strings.Join(voters, ",")
	p["controller.listener.names"] = ControlPlaneListener

	host := NodeHost(in.Cluster, in.Namespace, in.Node, false)
	protocols := map[string]string{ControlPlaneListener: "SSL", ReplicationListener: "SSL"}
	var listeners, advertised []string
	mutualTLS(p, ControlPlaneListener, ClusterCATrust)
	if in.Node.Controller {
		listeners = append(listeners, ControlPlaneListener+"://0.0.0.0:9090")
		advertised = append(advertised, ControlPlaneListener+"://"+host+":9090")
	}
	if in.Node.Broker {
		listeners = append(listeners, ReplicationListener+"://0.0.0.0:9091")
		advertised = append(advertised, ReplicationListener+"://"+host+":9091")
		p["inter.broker.listener.name"] = ReplicationListener
		mutualTLS(p, ReplicationListener, ClusterCATrust)
		for _, l := range in.Listeners {
			name := ListenerName(l)
			addr, err := advertisedAddress(in, l, host)
			if err != nil {
				return "", err
			}
			listeners = append(listeners, fmt.Sprintf("%s://0.0.0.0:%d", name, l.Port))
			advertised = append(advertised, fmt.Sprintf("%s://%s:%d", name, addr.Host, addr.Port))
			protocols[name] = userListener(p, l)
		}
	}
	p["listeners"] = strings.Join(listeners, ",")
	p["advertised.listeners"] = strings.Join(advertised, ",")
	var proto []string
	for name, pr := range protocols {
		proto = append(proto, name+":"+pr)
	}
	sort.Strings(proto)
	p["listener.security.protocol.map"] = strings.Join(proto, ",")

	if in.Authorization != nil {
		p["authorizer.class.name"] = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
		supers := slices.Clone(in.OperatorPrincipals)
		for _, u := range in.Authorization.SuperUserPrincipals() {
			if !slices.Contains(supers, u) {
				supers = append(supers, u)
			}
		}
		p["super.users"] = strings.Join(supers, ";")
	}

	dirs, metadataDir := logDirs(in.Storage, in.Node.ID)
	p["log.dirs"] = strings.Join(dirs, ",")
	if metadataDir != "" {
		p["metadata.log.dir"] = metadataDir
	}
	return format(p), nil
}

// ListenerKeystoreFile is the node certificate Secret's key (and the file in CertsDir) of a
// listener's own server certificate (configuration.brokerCertChainAndKey or certManager): Kafka's
// PEM keystore.
func ListenerKeystoreFile(l v1beta1.GenericKafkaListener) string {
	return "listener-" + strings.ToLower(ListenerName(l)) + ".pem"
}

// ListenerKeystoreLocationKey is the broker config key naming a user listener's keystore file.
func ListenerKeystoreLocationKey(l v1beta1.GenericKafkaListener) string {
	return "listener.name." + strings.ToLower(ListenerName(l)) + ".ssl.keystore.location"
}

// mutualTLS configures an operator listener: the node's certificate, client certificates
// required and verified against trust.
func mutualTLS(p map[string]string, listener, trust string) {
	pre := "listener.name." + strings.ToLower(listener) + "."
	p[pre+"ssl.keystore.type"] = "PEM"
	p[pre+"ssl.keystore.location"] = NodeKeystore
	p[pre+"ssl.truststore.type"] = "PEM"
	p[pre+"ssl.truststore.location"] = trust
	p[pre+"ssl.client.auth"] = "required"
}

// userListener configures a user listener's security and returns its protocol.
func userListener(p map[string]string, l v1beta1.GenericKafkaListener) string {
	pre := "listener.name." + strings.ToLower(ListenerName(l)) + "."
	auth := ""
	if l.Authentication != nil {
		auth = string(l.Authentication.Type)
	}
	if l.TLS {
		p[pre+"ssl.keystore.type"] = "PEM"
		p[pre+"ssl.keystore.location"] = NodeKeystore
		if c := l.Configuration; c != nil && (c.BrokerCertChainAndKey != nil || c.CertManager != nil) {
			p[ListenerKeystoreLocationKey(l)] = CertsDir + "/" + ListenerKeystoreFile(l)
		}
		if auth == string(v1beta1.ListenerAuthTLS) {
			p[pre+"ssl.client.auth"] = "required"
			p[pre+"ssl.truststore.type"] = "PEM"
			p[pre+"ssl.truststore.location"] = ClientsCATrust
		}
	}
	if c := l.Configuration; c != nil && c.MaxConnections != nil {
		p[pre+"max.connections"] = strconv.Itoa(int(*c.MaxConnections))
	}
	if c := l.Configuration; c != nil && c.MaxConnectionCreationRate != nil {
		p[pre+"max.connection.creation.rate"] = strconv.Itoa(int(*c.MaxConnectionCreationRate))
	}
	if auth == string(v1beta1.ListenerAuthScramSha512) {
		p[pre+"sasl.enabled.mechanisms"] = "SCRAM-SHA-512"
		p[pre+"scram-sha-512.sasl.jaas.config"] = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
		if l.TLS {
			return "SASL_SSL"
		}
		return "SASL_PLAINTEXT"
	}
	if l.TLS {
		return "SSL"
	}
	return "PLAINTEXT"
}

// advertisedAddress is what a broker advertises on a user listener: a per-broker override, the
// node's DNS name for internal listeners, its per-broker service for cluster-ip, or the
// external address the reconciler found.
// AdvertisedAddress is the address node in.Node advertises on user listener l.
func AdvertisedAddress(in Input, l v1beta1.GenericKafkaListener) (Address, error) {
	return advertisedAddress(in, l, NodeHost(in.Cluster, in.Namespace, in.Node, false))
}

func advertisedAddress(in Input, l v1beta1.GenericKafkaListener, host string) (Address, error) {
	addr := Address{Host: host, Port: l.Port}
	switch l.Type {
	case v1beta1.ListenerInternal:
		if l.Configuration != nil && l.Configuration.UseServiceDNSDomain {
			addr.Host = NodeHost(in.Cluster, in.Namespace, in.Node, true)
		}
	case v1beta1.ListenerClusterIP:
		addr.Host = v1beta1.PerBrokerServiceName(in.Cluster, in.Node.Pool, l.Name, in.Node.ID) + "." + in.Namespace + ".svc"
	default:
		ext, ok := in.External[l.Name]
		if !ok || ext.Host == "" {
			return Address{}, fmt.Errorf("listener %s: the external address of node %d is not known yet", l.Name, in.Node.ID)
		}
		addr = ext
	}
	if host := l.Configuration.AdvertisedHost(in.Node.ID, v1beta1.NodeName(in.Cluster, in.Node.Pool, in.Node.ID)); host != "" {
		addr.Host = host
	}
	if l.Configuration != nil {
		for _, b := range l.Configuration.Brokers {
			if b.Broker != in.Node.ID {
				continue
			}
			if b.AdvertisedPort != nil {
				addr.Port = *b.AdvertisedPort
			}
		}
	}
	return addr, nil
}

// logDirs are the node's data directories and, for JBOD with a volume marked for it, the
// directory of the KRaft metadata log.
func logDirs(s v1beta1.Storage, id int32) ([]string, string) {
	leaf := "kafka-log" + strconv.Itoa(int(id))
	if s.Type != v1beta1.StorageJBOD {
		return []string{DataRoot + "/data/" + leaf}, ""
	}
	var dirs []string
	metadata := ""
	for _, v := range s.Volumes {
		d := fmt.Sprintf("%s/data-%d/%s", DataRoot, v.ID, leaf)
		dirs = append(dirs, d)
		if v.KRaftMetadata == "shared" {
			metadata = d
		}
	}
	return dirs, metadata
}

// format writes properties sorted by key, escaped as java.util.Properties reads them.
func format(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Generated by the Kafkaplane cluster operator. broker.rack is appended at start from the node's topology label.\n")
	for _, k := range keys {
		b.WriteString(escape(k, true))
		b.WriteByte('=')
		b.WriteString(escape(p[k], false))
		b.WriteByte('\n')
	}
	return b.String()
}

// Kafka reads the file with Properties.load(InputStream), as ISO-8859-1: every character
// outside printable ASCII is written as \uXXXX (UTF-16, so a character beyond the BMP is two).
// In a key, the separators (=, :, blanks) and a leading comment mark (# or !) are escaped; in a
// value, leading blanks are, which load would otherwise skip.
func escape(s string, key bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == ' ' && (key || i == 0 || leadingBlanks(s[:i])):
			b.WriteString(`\ `)
		case key && (r == '=' || r == ':' || r == '#' || r == '!'):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(&b, `\u%04x`, u)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// leadingBlanks reports whether s is only blanks (so the next blank is still leading).
func leadingBlanks(s string) bool { return strings.TrimLeft(s, " \t\f") == "" }

// Hash is the digest of a node's effective configuration and certificates: when it changes, the
// node must roll (or, for dynamic broker configs, be reconfigured).
func Hash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
