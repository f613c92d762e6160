package entityops

import (
	"time"

	"github.com/kafkaplane/kafkaplane/cluster-operator/internal/certs"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

func pkiLeaf(name string, validity time.Duration) pki.Leaf {
	return pki.Leaf{CommonName: name, Organization: certs.Organization, Client: true, Validity: validity}
}
