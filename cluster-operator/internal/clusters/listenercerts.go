package clusters

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/kafkaconfig"
	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/nodes"
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

// identity is what of the certificate a running broker cannot take up without a restart: Kafka
// reloads a listener's keystore in place only when the new certificate has the same subject and
// at least the same subject alternative names (SslFactory's compatibility check). A renewal
// keeps it; a certificate with another identity rolls the brokers.
func (lc listenerCert) identity() string {
	leaf := lc.chain[0]
	sans := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		sans = append(sans, "ip:"+ip.String())
	}
	for _, e := range leaf.EmailAddresses {
		sans = append(sans, "email:"+e)
	}
	for _, u := range leaf.URIs {
		sans = append(sans, "uri:"+u.String())
	}
	slices.Sort(sans)
	return fmt.Sprintf("subject=%x sans=%q", leaf.RawSubject, sans)
}

// listenerCerts reads the certificates of the listeners with configuration.brokerCertChainAndKey,
// by the listener's keystore file name. A missing Secret or key, data that is not PEM, a key
// that is not the certificate's, or a certificate outside its validity is a spec error: the
// reconcile stops before anything is written, so the brokers keep what they serve, until it is
// fixed. The Secrets are read from the API server (the operator caches only its own Secrets), at
// each reconcile: a new certificate is taken up at the next one (a change of the Kafka or a
// resync).
//
// A listener with configuration.certManager gets its cert-manager Certificate (made or updated
// here, for the hosts of the brokers in all) and the Secret cert-manager writes is read the same
// way; until it exists, the reconcile stops with cert-manager's reason.
//
// notReady are, by listener, its Certificate's Ready=False reason and message while the Secret
// still holds an earlier certificate (a renewal that cert-manager cannot carry out): the brokers
// keep serving that one, and the Kafka warns.
func (r *Reconciler) listenerCerts(ctx context.Context, k *v1beta1.Kafka, all []nodes.Node) (out map[string]listenerCert, notReady map[string]string, err error) {
	for _, l := range k.Spec.Kafka.Listeners {
		ref := listenerCertSource(k, l)
		if ref == nil {
			continue
		}
		what := fmt.Sprintf("listener %s: configuration.brokerCertChainAndKey", l.Name)
		if l.Configuration.CertManager != nil {
			what = fmt.Sprintf("listener %s: configuration.certManager", l.Name)
			hosts := r.listenerHosts(k, l, all)
			if len(hosts) == 0 {
				continue // no broker yet
			}
			crt, err := r.applyCertificate(ctx, k, certificate(k, l, hosts))
			if err != nil {
				return nil, nil, err
			}
			if status, reason, msg := readyCondition(crt); status == "False" {
				if notReady == nil {
					notReady = map[string]string{}
				}
				notReady[l.Name] = fmt.Sprintf("%s: %s", reason, msg)
			}
		}
		s, err := r.getSecret(ctx, k.Namespace, ref.SecretName)
		if err != nil {
			return nil, nil, err
		}
		if s == nil && l.Configuration.CertManager != nil {
			return nil, nil, r.notIssued(ctx, k, l)
		}
		if s == nil {
			return nil, nil, specErrorf("%s: Secret %s not found", what, ref.SecretName)
		}
		lc, err := parseListenerCert(s.Data[ref.Certificate], s.Data[ref.Key], r.now())
		if err != nil {
			return nil, nil, specErrorf("%s: Secret %s (keys %s and %s): %v", what, ref.SecretName, ref.Certificate, ref.Key, err)
		}
		// Into the certificate-expiry gauge (and so the expiry alert): the operator renews its own
		// certificates, the user has to renew this one.
		r.recordExpiry(k.Namespace, k.Name, ref.SecretName, pki.EncodeCerts(lc.chain[0]))
		if out == nil {
			out = map[string]listenerCert{}
		}
		out[kafkaconfig.ListenerKeystoreFile(l)] = lc
	}
	return out, notReady, nil
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

// checkCertificateNames records the hosts node in.Node advertises on listeners with their own
// certificate that the certificate does not cover (x509 host name rules, wildcards included).
func (p *plan) checkCertificateNames(k *v1beta1.Kafka, in kafkaconfig.Input) {
	for _, l := range k.Spec.Kafka.Listeners {
		lc, ok := p.listenerCerts[kafkaconfig.ListenerKeystoreFile(l)]
		if !ok {
			continue
		}
		addr, err := kafkaconfig.AdvertisedAddress(in, l)
		if err != nil || lc.chain[0].VerifyHostname(addr.Host) == nil {
			continue
		}
		if p.uncoveredHosts == nil {
			p.uncoveredHosts = map[string][]string{}
		}
		if !slices.Contains(p.uncoveredHosts[l.Name], addr.Host) {
			p.uncoveredHosts[l.Name] = append(p.uncoveredHosts[l.Name], addr.Host)
		}
	}
}

// listenerCertSource is where a listener's own certificate is: the Secret the user names, or the
// one cert-manager writes for it; nil for a listener with the cluster CA's.
func listenerCertSource(k *v1beta1.Kafka, l v1beta1.GenericKafkaListener) *v1beta1.CertAndKeySecretSource {
	switch c := l.Configuration; {
	case c == nil:
		return nil
	case c.BrokerCertChainAndKey != nil:
		return c.BrokerCertChainAndKey
	case c.CertManager != nil:
		name := v1beta1.ListenerCertificateName(k.Name, l.Name)
		return &v1beta1.CertAndKeySecretSource{SecretName: name, Certificate: "tls.crt", Key: "tls.key"}
	}
	return nil
}
