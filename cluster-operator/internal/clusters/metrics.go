package clusters

import (
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"

	"github.com/kafkaplane/kafkaplane/pkg/metrics"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// Metrics are the cluster operator's own metrics.
type Metrics struct {
	// CertificateExpiry is the expiry time of each CA and certificate the operator keeps.
	CertificateExpiry *prometheus.GaugeVec
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{CertificateExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Subsystem: metrics.CertificateExpirySubsystem, Name: metrics.CertificateExpiryName,
		Help: "Expiry (Unix time) of each CA and certificate a Kafka cluster's operator keeps, by namespace, cluster and certificate (the CA name, the Secret of a node or operator certificate, or the Secret of a listener's own certificate).",
	}, []string{"namespace", "cluster", "certificate"})}
	if err := reg.Register(m.CertificateExpiry); err != nil {
		return nil, err
	}
	return m, nil
}

func (r *Reconciler) recordExpiry(namespace, cluster, name string, certPEM []byte) {
	if r.Metrics == nil {
		return
	}
	certs, err := pki.DecodeCerts(certPEM)
	if err != nil || len(certs) == 0 {
		return
	}
	r.Metrics.CertificateExpiry.WithLabelValues(namespace, cluster, name).Set(float64(certs[0].NotAfter.Unix()))
}

func (r *Reconciler) recordSecretExpiry(s *corev1.Secret, cluster, key string) {
	r.recordExpiry(s.Namespace, cluster, s.Name, s.Data[key])
}

// forgetCluster drops a deleted cluster's series.
func (r *Reconciler) forgetCluster(namespace, cluster string) {
	if r.Metrics == nil {
		return
	}
	r.Metrics.CertificateExpiry.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "cluster": cluster})
}
