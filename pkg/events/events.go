// Package events records Kubernetes Events (events.k8s.io/v1) for Kafkaplane resources, with
// reasons as constants so that users can filter on them.
package events

import (
	"context"
	"fmt"

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
