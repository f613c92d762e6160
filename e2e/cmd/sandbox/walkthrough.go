package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// walkthrough does what the README tells a user to do: with my-user's certificate from
// .sandbox/users and the cluster CA from its Secret, produce a record to topic test at the
// address bootstrap.json gives, and consume it back.
func walkthrough(ctx context.Context, kube kubernetes.Interface, usersDir string, bootstrap map[string]string) error {
	const ns, cluster, user, topic = "tls-kafka", "my-tls-cluster", "my-user", "test"
	addr := bootstrap[ns+"/"+cluster+"/tls"]
	if addr == "" {
		return fmt.Errorf("no address for %s/%s/tls in bootstrap.json", ns, cluster)
	}
	dir := filepath.Join(usersDir, ns, user)
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "user.crt"), filepath.Join(dir, "user.key"))
	if err != nil {
		return fmt.Errorf("loading %s's certificate: %w", user, err)
	}
	ca, err := kube.CoreV1().Secrets(ns).Get(ctx, v1beta1.ClusterCACertSecretName(cluster), metav1.GetOptions{})
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.Data["ca.crt"])
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, Certificates: []tls.Certificate{pair}}),
		kgo.ConsumeTopics(topic), kgo.ConsumerGroup("my-group-sandbox"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	value := fmt.Sprintf("hello from the sandbox at %s", time.Now().Format(time.RFC3339))
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(value)}).FirstErr(); err != nil {
		return fmt.Errorf("producing to %s: %w", topic, err)
	}
	for {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("consuming from %s: %w", topic, err)
		}
		for _, r := range fs.Records() {
			if string(r.Value) == value {
				return nil
			}
		}
	}
}
