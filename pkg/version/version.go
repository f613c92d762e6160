// Package version holds the version of the Kafkaplane binaries, set at build time with
// -ldflags "-X github.com/kafkaplane/kafkaplane/pkg/version.Version=<version>". The cluster
// operator uses it as the default tag of the entity operators' images.
package version

// Version of this build.
var Version = "0.1.0-dev"
