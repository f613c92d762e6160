// Package e2e holds Kafkaplane's integration and end-to-end tests and the harness that runs them
// against a real control plane.
package e2e
