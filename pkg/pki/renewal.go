package pki

import (
	"crypto/x509"
	"time"
)

// RenewalTime is when a certificate is due for renewal: renewBefore ahead of its expiry, but
// never before the middle of its life, so that a renewal window longer than the validity cannot
// make the operator re-issue forever.
func RenewalTime(cert *x509.Certificate, renewBefore time.Duration) time.Time {
	at := cert.NotAfter.Add(-renewBefore)
	mid := cert.NotBefore.Add(cert.NotAfter.Sub(cert.NotBefore) / 2)
	if at.Before(mid) {
		return mid
	}
	return at
}

// NeedsRenewal reports whether cert is due for renewal at now.
func NeedsRenewal(cert *x509.Certificate, renewBefore time.Duration, now time.Time) bool {
	return !now.Before(RenewalTime(cert, renewBefore))
}

// Days converts a number of days from the API (validityDays, renewalDays) to a duration.
func Days(n int32) time.Duration { return time.Duration(n) * 24 * time.Hour }

// SignedBy reports whether cert verifies against one of the CA certificates for the given usage
// at now: after a CA key replacement, whether a certificate still needs re-issuing.
func SignedBy(cert *x509.Certificate, cas []*x509.Certificate, usage x509.ExtKeyUsage, now time.Time) bool {
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca)
	}
	_, err := cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err == nil
}
