package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
)

// copyUserCredentials keeps .sandbox/users/<ns>/<user>/ in step with the Secrets that the user
// operator writes (status.secret of each KafkaUser), until ctx ends.
func copyUserCredentials(ctx context.Context, kp versioned.Interface, kube kubernetes.Interface, dir string) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		users, err := kp.KafkaplaneV1beta1().KafkaUsers(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		if err == nil {
			for _, u := range users.Items {
				if u.Status.Secret == "" {
					continue
				}
				s, err := kube.CoreV1().Secrets(u.Namespace).Get(ctx, u.Status.Secret, metav1.GetOptions{})
				if err != nil {
					continue
				}
				userDir := filepath.Join(dir, u.Namespace, u.Name)
				if err := os.MkdirAll(userDir, 0o700); err != nil {
					fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
					continue
				}
				for k, v := range s.Data {
					_ = os.WriteFile(filepath.Join(userDir, k), v, 0o600)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
