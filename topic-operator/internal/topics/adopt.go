package topics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/generated/clientset/versioned"
	"github.com/kafkaplane/kafkaplane/pkg/informers"
	"github.com/kafkaplane/kafkaplane/topic-operator/internal/kafka"
)

// Adopter makes KafkaTopic resources for topics created with Kafka tools (opt-in), which are then
// managed like any other: the behaviour of Strimzi's former bidirectional operator.
type Adopter struct {
	Client versioned.Interface
	Topics *informers.Multi
	Admin  interface {
		List(ctx context.Context) ([]string, error)
		Describe(ctx context.Context, name string) (kafka.Topic, error)
	}
	// Namespace receives the new resources; Labels (with the cluster label) are put on them.
	Namespace    string
	Labels       map[string]string
	FieldManager string
}

// Adopt creates a resource for every non-internal topic no resource of Namespace stands for.
// It returns how many it created.
func (a *Adopter) Adopt(ctx context.Context) (int, error) {
	names, err := a.Admin.List(ctx)
	if err != nil {
		return 0, err
	}
	objs, err := a.Topics.List(labels.Everything())
	if err != nil {
		return 0, err
	}
	known := map[string]bool{}
	for _, o := range objs {
		kt := o.(*v1beta1.KafkaTopic)
		if kt.Namespace == a.Namespace {
			known[TopicName(kt)] = true
		}
	}
	created := 0
	for _, name := range names {
		if Internal(name) || known[name] {
			continue
		}
		t, err := a.Admin.Describe(ctx, name)
		if err != nil || !t.Exists {
			continue
		}
		kt := &v1beta1.KafkaTopic{
			ObjectMeta: metav1.ObjectMeta{Name: ResourceName(name), Namespace: a.Namespace, Labels: a.Labels,
				Annotations: map[string]string{"kafkaplane.io/adopted": "true"}},
			Spec: v1beta1.KafkaTopicSpec{Partitions: &t.Partitions, Replicas: &t.Replicas},
		}
		if kt.Name != name {
			kt.Spec.TopicName = name
		}
		if len(t.Configs) > 0 {
			kt.Spec.Config = map[string]v1beta1.ConfigValue{}
			for k, v := range t.Configs {
				kt.Spec.Config[k] = v1beta1.ConfigValue(v)
			}
		}
		_, err = a.Client.KafkaplaneV1beta1().KafkaTopics(a.Namespace).Create(ctx, kt, metav1.CreateOptions{FieldManager: a.FieldManager})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return created, fmt.Errorf("adopting topic %s: %w", name, err)
		}
		if err == nil {
			created++
			klog.FromContext(ctx).Info("Adopted topic", "topic", name, "resource", kt.Name)
		}
	}
	return created, nil
}

var invalidChars = regexp.MustCompile(`[^a-z0-9.-]+`)

// ResourceName is the KafkaTopic name for a topic: the topic's own name when it is a valid
// resource name, else <sanitised>-<first 8 hex digits of its SHA-256>, so that distinct topics
// never collide.
func ResourceName(topic string) string {
	if len(validation.IsDNS1123Subdomain(topic)) == 0 {
		return topic
	}
	sum := sha256.Sum256([]byte(topic))
	base := strings.Trim(invalidChars.ReplaceAllString(strings.ToLower(topic), "-"), "-.")
	if len(base) > 200 {
		base = base[:200]
	}
	if base == "" {
		base = "topic"
	}
	return base + "-" + hex.EncodeToString(sum[:])[:8]
}
