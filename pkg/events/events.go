// Package events records Kubernetes Events (events.k8s.io/v1) for Kafkaplane resources, with
// reasons as constants so that users can filter on them.
package events

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Recorder records Events; tests use events.FakeRecorder.
type Recorder = events.EventRecorder

// Scheme knows the built-in types and Kafkaplane's, so Events can reference either.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("adding client-go types to scheme: %w", err)
	}
	if err := v1beta1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("adding kafkaplane types to scheme: %w", err)
	}
	return s, nil
}

// NewRecorder starts an event broadcaster that writes through client and returns a recorder
// reporting as component (the binary's name). The broadcaster stops when ctx ends.
func NewRecorder(ctx context.Context, client kubernetes.Interface, component string) (Recorder, error) {
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	b := events.NewBroadcaster(&events.EventSinkImpl{Interface: client.EventsV1()})
	if err := b.StartRecordingToSinkWithContext(ctx); err != nil {
		return nil, fmt.Errorf("starting event broadcaster: %w", err)
	}
	go func() {
		<-ctx.Done()
		b.Shutdown()
	}()
	return b.NewRecorder(scheme, component), nil
}

// Pod and Claim name the object an Event is about besides the resource it regards, for its
// related field. events.k8s.io folds the Events of one regarding object, reason, action and
// related object into one series that keeps the first note: per-node Events without a related
// object read "NodeCreated (x6): created node c-brokers-0" and hide the other five nodes.
func Pod(namespace, name string) runtime.Object {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
}

// Claim is Pod for a PersistentVolumeClaim.
func Claim(namespace, name string) runtime.Object {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
}

// ForNode is an Event action that names a node by ID, where no object is left to relate the
// Event to (a node removed from the quorum or from Kafka's metadata): like related, the action
// keeps the Events of different nodes apart.
func ForNode(action string, id int32) string { return fmt.Sprintf("%s node %d", action, id) }
