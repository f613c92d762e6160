package clusters

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// listenerCert is the server certificate of a TLS listener with
// configuration.brokerCertChainAndKey: Kafka's PEM keystore (the private key as PKCS#8, then
// the chain) and the chain, for the listener's status.
type listenerCert struct {
	keystore []byte
	chain    []*x509.Certificate
}

// listenerCerts reads the certificates of the listeners with configuration.brokerCertChainAndKey,
// by the listener's keystore file name. A missing Secret or key, data that is not PEM, a key
// that is not the certificate's, or a certificate outside its validity is a spec error: the
// reconcile stops before anything is written, so the brokers keep what they serve, until it is
// fixed. The Secrets are read from the API server (the operator caches only its own Secrets), at
// each reconcile: a new certificate is taken up at the next one (a change of the Kafka or a
// resync).
func (r *Reconciler) listenerCerts(ctx context.Context, k *v1beta1.Kafka) (map[string]listenerCert, error) {
	var out map[string]listenerCert
	for _, l := range k.Spec.Kafka.Listeners {
		if l.Configuration == nil || l.Configuration.BrokerCertChainAndKey == nil {
			continue
		}
		ref := l.Configuration.BrokerCertChainAndKey
		s, err := r.getSecret(ctx, k.Namespace, ref.SecretName)
		if err != nil {
			return nil, err
		}
		what := fmt.Sprintf("listener %s: configuration.brokerCertChainAndKey", l.Name)
		if s == nil {
			return nil, specErrorf("%s: Secret %s not found", what, ref.SecretName)
		}
		lc, err := parseListenerCert(s.Data[ref.Certificate], s.Data[ref.Key], r.now())
		if err != nil {
			return nil, specErrorf("%s: Secret %s (keys %s and %s): %v", what, ref.SecretName, ref.Certificate, ref.Key, err)
		}
		// Into the certificate-expiry gauge (and so the expiry alert): the operator renews its own
		// certificates, the user has to renew this one.
		r.recordExpiry(k.Namespace, k.Name, ref.SecretName, pki.EncodeCerts(lc.chain[0]))
		if out == nil {
			out = map[string]listenerCert{}
		}
		out[kafkaconfig.ListenerKeystoreFile(l)] = lc
	}
	return out, nil
}

// parseListenerCert checks a user's certificate chain and key and makes Kafka's keystore of them.
func parseListenerCert(certPEM, keyPEM []byte, now time.Time) (listenerCert, error) {
	if len(certPEM) == 0 {
		return listenerCert{}, fmt.Errorf("no certificate")
	}
	if len(keyPEM) == 0 {
		return listenerCert{}, fmt.Errorf("no private key")
	}
	chain, err := pki.DecodeCerts(certPEM)
	if err != nil {
		return listenerCert{}, err
	}
	key, err := pki.DecodeKey(keyPEM)
	if err != nil {
		return listenerCert{}, err
	}
	leaf := chain[0]
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(leaf.PublicKey) {
		return listenerCert{}, fmt.Errorf("the private key is not the key of the first certificate (%s)", leaf.Subject)
	}
	if now.After(leaf.NotAfter) {
		return listenerCert{}, fmt.Errorf("the certificate %s expired at %s", leaf.Subject, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return listenerCert{}, fmt.Errorf("the certificate %s is not valid before %s", leaf.Subject, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	// Kafka's PEM keystore reads a PKCS#8 key only; the chain goes as given (re-encoded, so that
	// text around the blocks is dropped).
	pkcs8, err := pki.EncodeKey(key)
	if err != nil {
		return listenerCert{}, err
	}
	return listenerCert{keystore: append(pkcs8, pki.EncodeCerts(chain...)...), chain: slices.Clip(chain)}, nil
}
