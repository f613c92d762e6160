// Package kafkastandin stands in for the Kafka of a cluster the cluster operator runs, where no
// Kafka can run (tests and the sandbox simulate pods): one kfake cluster on loopback with a broker
// per broker pod, serving TLS with a certificate from that cluster's CA for 127.0.0.1, and
// requiring client certificates signed by the cluster CA (the operators) or the clients CA (the
// users). ACLs are not enforced: kfake sees mTLS clients as User:ANONYMOUS, so enforcement would
// deny every user; ACLs are checked through DescribeACLs instead. kfake has no DescribeQuorum:
// the cluster operator cannot check the controller quorum against it.
package kafkastandin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kafkaplane/kafkaplane/e2e/kafkafake"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// StandIn is a running stand-in.
type StandIn struct {
	*kafkafake.Cluster
}

// Start waits (until ctx ends) for the cluster's CA Secrets, then starts the stand-in.
func Start(ctx context.Context, kube kubernetes.Interface, namespace, cluster string, brokers int) (*StandIn, error) {
	clusterCA, err := waitCA(ctx, kube, namespace, v1beta1.ClusterCACertSecretName(cluster), v1beta1.ClusterCAKeySecretName(cluster))
	if err != nil {
		return nil, err
	}
	clientsCA, err := waitCA(ctx, kube, namespace, v1beta1.ClientsCACertSecretName(cluster), v1beta1.ClientsCAKeySecretName(cluster))
	if err != nil {
		return nil, err
	}
	kp, err := clusterCA.KeyPair.Issue(pki.Leaf{CommonName: cluster + "-kafka", Organization: "kafkaplane.io",
		DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true, Client: true, Validity: 30 * 24 * time.Hour}, time.Now())
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range append(clusterCA.Trusted, clientsCA.Trusted...) {
		pool.AddCert(c)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{kp.Cert.Raw}, PrivateKey: kp.Key, Leaf: kp.Cert}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}
	kf, err := kafkafake.Start(kafkafake.Options{Brokers: brokers, TLS: cfg})
	if err != nil {
		return nil, err
	}
	return &StandIn{Cluster: kf}, nil
}

func waitCA(ctx context.Context, kube kubernetes.Interface, namespace, certName, keyName string) (*pki.CA, error) {
	for {
		cert, err1 := kube.CoreV1().Secrets(namespace).Get(ctx, certName, metav1.GetOptions{})
		key, err2 := kube.CoreV1().Secrets(namespace).Get(ctx, keyName, metav1.GetOptions{})
		if err1 == nil && err2 == nil {
			return pki.LoadCA(pki.CAState{CertData: cert.Data, KeyData: key.Data})
		}
		for _, err := range []error{err1, err2} {
			if err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("reading the CA of %s/%s: %w", namespace, certName, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for Secrets %s and %s in %s: %w", certName, keyName, namespace, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
