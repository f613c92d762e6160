package pki

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"
)

func spec(replace bool) CASpec {
	return CASpec{CommonName: "cluster-ca", Generate: true, Validity: Days(365), Renew: Days(30), ReplaceKeyOnRenew: replace}
}

func state(ca *CA) CAState {
	return CAState{CertData: ca.CertData, KeyData: ca.KeyData, CertGeneration: ca.CertGeneration, KeyGeneration: ca.KeyGeneration}
}

func TestCACreatedThenStable(t *testing.T) {
	ca, err := ReconcileCA(spec(false), CAState{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if ca.Action != "Created" || len(ca.CertData[CACertKey]) == 0 || len(ca.KeyData[CAKeyKey]) == 0 ||
		len(ca.CertData[CAP12Key]) == 0 || len(ca.CertData[CAPasswordKey]) != 32 {
		t.Fatalf("created CA: action %q, cert keys %v", ca.Action, keys(ca.CertData))
	}
	again, err := ReconcileCA(spec(false), state(ca), now.Add(Days(100)))
	if err != nil {
		t.Fatal(err)
	}
	if again.Action != "" || string(again.CertData[CACertKey]) != string(ca.CertData[CACertKey]) {
		t.Errorf("a CA not yet due changed: action %q", again.Action)
	}
	if !again.RenewAt.Equal(ca.KeyPair.Cert.NotAfter.Add(-Days(30))) {
		t.Errorf("RenewAt = %v", again.RenewAt)
	}
}

func TestCARenewalKeepsKey(t *testing.T) {
	ca, _ := ReconcileCA(spec(false), CAState{}, now)
	leaf, err := ca.KeyPair.Issue(Leaf{CommonName: "n", Client: true, Validity: Days(365)}, now)
	if err != nil {
		t.Fatal(err)
	}
	due := now.Add(Days(340))
	renewed, err := ReconcileCA(spec(false), state(ca), due)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Action != "Renewed" || renewed.CertGeneration != 1 || renewed.KeyGeneration != 0 {
		t.Fatalf("renewal: action %q generations %d/%d", renewed.Action, renewed.CertGeneration, renewed.KeyGeneration)
	}
	if string(renewed.KeyData[CAKeyKey]) != string(ca.KeyData[CAKeyKey]) {
		t.Error("renew-certificate changed the key")
	}
	if len(renewed.Trusted) != 1 {
		t.Errorf("a same-key renewal keeps %d certificates trusted, want 1", len(renewed.Trusted))
	}
	if !SignedBy(leaf.Cert, renewed.Trusted, x509.ExtKeyUsageClientAuth, due) {
		t.Error("a certificate of the old CA certificate does not verify under the renewed one")
	}
}

// replace-key: a new key; the old certificate stays trusted (ca-<date>.crt) until dropped, and
// the state survives a restart because it is all in the Secrets' data.
func TestCAKeyReplacementKeepsOldTrustedUntilDropped(t *testing.T) {
	ca, _ := ReconcileCA(spec(true), CAState{}, now)
	leaf, _ := ca.KeyPair.Issue(Leaf{CommonName: "n", Client: true, Validity: Days(365)}, now)
	due := now.Add(Days(340))
	replaced, err := ReconcileCA(spec(true), state(ca), due)
	if err != nil {
		t.Fatal(err)
	}
	if replaced.Action != "KeyReplaced" || replaced.KeyGeneration != 1 || replaced.CertGeneration != 1 {
		t.Fatalf("replacement: action %q generations %d/%d", replaced.Action, replaced.CertGeneration, replaced.KeyGeneration)
	}
	if string(replaced.KeyData[CAKeyKey]) == string(ca.KeyData[CAKeyKey]) {
		t.Fatal("replace-key kept the key")
	}
	var oldName string
	for k := range replaced.CertData {
		if strings.HasPrefix(k, "ca-") && k != CACertKey {
			oldName = k
		}
	}
	if oldName == "" {
		t.Fatalf("the old certificate is not kept: %v", keys(replaced.CertData))
	}
	if !SignedBy(leaf.Cert, replaced.Trusted, x509.ExtKeyUsageClientAuth, due) {
		t.Error("an old leaf is not trusted during the transition")
	}

	// An operator restart reads the same state back and does nothing new.
	resumed, err := ReconcileCA(spec(true), state(replaced), due.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Action != "" || len(resumed.Trusted) != 2 {
		t.Fatalf("after a restart: action %q, %d trusted", resumed.Action, len(resumed.Trusted))
	}
	dropped, err := DropSuperseded(resumed)
	if err != nil {
		t.Fatal(err)
	}
	if len(dropped.Trusted) != 1 || len(dropped.CertData) != 3 {
		t.Errorf("after dropping: %d trusted, cert keys %v", len(dropped.Trusted), keys(dropped.CertData))
	}
	if SignedBy(leaf.Cert, dropped.Trusted, x509.ExtKeyUsageClientAuth, due) {
		t.Error("an old leaf is still trusted after the old CA was dropped")
	}
}

func TestUserProvidedCA(t *testing.T) {
	s := spec(false)
	s.Generate = false
	if _, err := ReconcileCA(s, CAState{}, now); err == nil || !strings.Contains(err.Error(), "user-provided") {
		t.Fatalf("a missing user CA gave %v", err)
	}
	own, _ := NewCA("my-ca", Days(10), now)
	keyPEM, _ := EncodeKey(own.Key)
	st := CAState{CertData: map[string][]byte{CACertKey: EncodeCerts(own.Cert)}, KeyData: map[string][]byte{CAKeyKey: keyPEM}}
	ca, err := ReconcileCA(s, st, now.Add(Days(9))) // due, but the operator never renews a user CA
	if err != nil {
		t.Fatalf("user CA: %v", err)
	}
	if ca.Action != "" || !ca.KeyPair.Cert.Equal(own.Cert) {
		t.Fatalf("user CA changed: action %q", ca.Action)
	}
	other, _ := NewCA("other", Days(10), now)
	otherKey, _ := EncodeKey(other.Key)
	st.KeyData[CAKeyKey] = otherKey
	if _, err := ReconcileCA(s, st, now); err == nil || !strings.Contains(err.Error(), "do not belong together") {
		t.Fatalf("a mismatched key gave %v", err)
	}
}

func TestParseGeneration(t *testing.T) {
	for in, want := range map[string]int{"3": 3, "": 0, "x": 0, "-1": 0} {
		if got := ParseGeneration(map[string]string{AnnotationKeyGeneration: in}, AnnotationKeyGeneration); got != want {
			t.Errorf("ParseGeneration(%q) = %d, want %d", in, got, want)
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCAForcedChanges: a forced replacement replaces the key whatever the policy and age; a
// second one waits while the first is under way; a forced renewal keeps the key (renew-certificate).
func TestCAForcedChanges(t *testing.T) {
	ca, _ := ReconcileCA(spec(false), CAState{}, now)
	st := state(ca)
	st.ForceReplace = true
	replaced, err := ReconcileCA(spec(false), st, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if replaced.Action != "KeyReplaced" || replaced.KeyGeneration != 1 || len(replaced.Trusted) != 2 {
		t.Fatalf("forced replacement: action %q key generation %d, %d trusted", replaced.Action, replaced.KeyGeneration, len(replaced.Trusted))
	}
	again := state(replaced)
	again.ForceReplace = true
	waits, err := ReconcileCA(spec(false), again, now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if waits.Action != "" || waits.KeyGeneration != 1 {
		t.Fatalf("a replacement during a replacement: action %q key generation %d", waits.Action, waits.KeyGeneration)
	}
	st = state(ca)
	st.ForceRenew = true
	renewed, err := ReconcileCA(spec(false), st, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Action != "Renewed" || renewed.KeyGeneration != 0 || string(renewed.KeyData[CAKeyKey]) != string(ca.KeyData[CAKeyKey]) {
		t.Fatalf("forced renewal: action %q key generation %d", renewed.Action, renewed.KeyGeneration)
	}
}
