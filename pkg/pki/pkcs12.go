package pki

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"

	"software.sslmate.com/src/go-pkcs12"
)

const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Password returns a random password of n letters and digits (for PKCS#12 stores and SCRAM).
func Password(n int) (string, error) {
	b := make([]byte, n)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range b {
		x, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("generating a password: %w", err)
		}
		b[i] = passwordAlphabet[x.Int64()]
	}
	return string(b), nil
}

// KeyStore encodes a key pair with its CA chain as a password-protected PKCS#12 key store
// (user.p12), with modern algorithms (AES-256, PBKDF2) that Java 11+ reads.
func KeyStore(kp *KeyPair, chain []*x509.Certificate, password string) ([]byte, error) {
	b, err := pkcs12.Modern.Encode(kp.Key, kp.Cert, chain, password)
	if err != nil {
		return nil, fmt.Errorf("encoding the PKCS#12 key store: %w", err)
	}
	return b, nil
}

// TrustStore encodes CA certificates as a password-protected PKCS#12 trust store (ca.p12).
func TrustStore(cas []*x509.Certificate, password string) ([]byte, error) {
	b, err := pkcs12.Modern.EncodeTrustStore(cas, password)
	if err != nil {
		return nil, fmt.Errorf("encoding the PKCS#12 trust store: %w", err)
	}
	return b, nil
}
