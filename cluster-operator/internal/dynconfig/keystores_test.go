package dynconfig

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane/pkg/pki"
)

// TestServedReadsTheCertificate: Served returns the leaf a listener presents, also on a listener
// that requires a client certificate it is not given (an mTLS listener), and verifies nothing.
func TestServedReadsTheCertificate(t *testing.T) {
	ca, err := pki.NewCA("test-ca", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(pki.Leaf{CommonName: "kafka-external", Server: true, Validity: time.Hour, DNSNames: []string{"elsewhere.example.com"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{MinVersion: tls.VersionTLS12, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
		Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Cert.Raw, ca.Cert.Raw}, PrivateKey: leaf.Key}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	got, err := (&Keystores{}).Served(context.Background(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, leaf.Cert.Raw) {
		t.Fatal("Served returned another certificate than the listener's leaf")
	}
	ln.Close()
	if _, err := (&Keystores{}).Served(context.Background(), ln.Addr().String()); err == nil {
		t.Fatal("Served of a closed listener returned no error")
	}
}
