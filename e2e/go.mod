module github.com/kafkaplane/kafkaplane/e2e

go 1.26.0

require github.com/kafkaplane/kafkaplane/pkg v0.0.0

replace github.com/kafkaplane/kafkaplane/pkg => ../pkg
