package dynconfig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Keystores makes brokers take up a listener certificate that changed in its file, without a
// restart.
type Keystores struct {
	Client func(k *v1beta1.Kafka) (*kgo.Client, error)
	// Dial dials a node's listener; nil: a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// errCaptured ends a handshake once the server's certificate is read.
var errCaptured = errors.New("certificate read")

// Served returns the certificate (DER) the listener at addr (host:port) presents. The
// handshake is abandoned as soon as the server's certificate arrives: nothing is verified, nor
// sent, and no client certificate is needed.
func (s *Keystores) Served(ctx context.Context, addr string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dial := s.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	raw, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	defer raw.Close()
	var leaf []byte
	host, _, _ := net.SplitHostPort(addr)
	conn := tls.Client(raw, &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12,
		// The certificate is read, not trusted: the check is byte equality with the one wanted.
		InsecureSkipVerify: true, //nolint:gosec
		VerifyPeerCertificate: func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			if len(rawCerts) > 0 {
				leaf = rawCerts[0]
			}
			return errCaptured
		}})
	err = conn.HandshakeContext(ctx)
	if leaf != nil {
		return leaf, nil
	}
	if err == nil {
		err = errors.New("no certificate presented")
	}
	return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
}

// Reload asks broker id to reload the keystore files of its listeners: Kafka's controller
// writes a config record for a broker's own resource even when nothing changes (KAFKA-14136),
// and a broker that receives one for itself reloads every listener keystore whose file changed.
// The request touches key (a listener's ssl.keystore.location, which the operator sets in the
// static configuration) and leaves Kafka's metadata as it was: a value set per broker with
// Kafka's tools is set again as it is; otherwise the key is deleted from the broker's dynamic
// configs, where it is not.
func (s *Keystores) Reload(ctx context.Context, k *v1beta1.Kafka, id int32, key string) error {
	cl, err := s.Client(k)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	broker := strconv.Itoa(int(id))
	current, err := perBrokerValue(ctx, cl, broker, key)
	if err != nil {
		return fmt.Errorf("asking broker %d to reload its keystores: %w", id, err)
	}
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBroker, broker
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	c.Name, c.Op = key, kmsg.IncrementalAlterConfigOpDelete
	if current != nil {
		c.Op, c.Value = kmsg.IncrementalAlterConfigOpSet, current
	}
	res.Configs = append(res.Configs, c)
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("asking broker %d to reload its keystores: %w", id, err)
	}
	for _, r := range resp.Resources {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return fmt.Errorf("asking broker %d to reload its keystores: %w (%s)", id, err, str(r.ErrorMessage))
		}
	}
	return nil
}

// perBrokerValue is key's value in the broker's own dynamic configs, nil when it has none.
func perBrokerValue(ctx context.Context, cl *kgo.Client, broker, key string) (*string, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName, res.ConfigNames = kmsg.ConfigResourceTypeBroker, broker, []string{key}
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	for _, r := range resp.Resources {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return nil, fmt.Errorf("describing broker %s's %s: %w (%s)", broker, key, err, str(r.ErrorMessage))
		}
		for _, c := range r.Configs {
			if c.Name == key && c.Source == kmsg.ConfigSourceDynamicBrokerConfig && c.Value != nil {
				return c.Value, nil
			}
		}
	}
	return nil, nil
}
