package pki

import (
	"testing"
	"time"
)

// FuzzLoadCA: whatever a user (or a hand edit) puts in a CA's Secrets is either read as a CA
// whose certificate and key belong together, or refused with an error; it never panics.
func FuzzLoadCA(f *testing.F) {
	kp, err := NewCA("fuzz", time.Hour, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	key, err := EncodeKey(kp.Key)
	if err != nil {
		f.Fatal(err)
	}
	cert := EncodeCerts(kp.Cert)
	f.Add(cert, key, []byte(nil))
	f.Add(cert, key, cert)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), key, []byte("garbage"))
	f.Add(cert, []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), []byte(nil))
	f.Fuzz(func(t *testing.T, certData, keyData, oldData []byte) {
		cd := map[string][]byte{CACertKey: certData}
		if oldData != nil {
			cd["ca-2026-01-01T00-00-00Z.crt"] = oldData
		}
		ca, err := LoadCA(CAState{CertData: cd, KeyData: map[string][]byte{CAKeyKey: keyData}})
		if err != nil {
			return
		}
		if ca.KeyPair == nil || ca.KeyPair.Cert == nil || ca.KeyPair.Key == nil || !ca.KeyPair.Cert.IsCA {
			t.Fatalf("CA %+v", ca)
		}
		if !publicKeysEqual(ca.KeyPair.Cert, ca.KeyPair.Key) {
			t.Fatal("a CA whose key does not belong to its certificate was accepted")
		}
	})
}
