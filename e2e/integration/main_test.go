// Package integration holds the tests that need a real API server: CRD admission, the
// simulated kubelet, and our pods run as processes.
package integration

import (
	"testing"

	"github.com/kafkaplane/kafkaplane/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }
