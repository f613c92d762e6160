package users

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/ownership"
	"github.com/kafkaplane/kafkaplane/pkg/ownwrites"
	"github.com/kafkaplane/kafkaplane/pkg/pki"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/credentials"
)

// credential is the outcome of reconciling the user's Secret.
type credential struct {
	// secret names the user's Secret; "" when the user has none.
	secret string
	// scram: the user has a SCRAM password, whose Secret data has digest; password is set
	// when this reconcile wrote or read it.
	scram            bool
	digest, password string
	// renewAt is when a tls user's certificate falls due.
	renewAt time.Time
	// change says what this reconcile wrote, for the event; "" when nothing.
	change string
}

// SecretComponent is the app.kubernetes.io/component of user Secrets.
const SecretComponent = "kafka-user"

// ownedAnnotations are the annotations the operator writes on user Secrets; stale ones are
// removed when the authentication type changes.
var ownedAnnotations = []string{
	credentials.AnnotationDigest, credentials.AnnotationNotBefore, credentials.AnnotationNotAfter,
	credentials.AnnotationValidityDays, credentials.AnnotationPasswordSource,
	pki.AnnotationCertGeneration, pki.AnnotationKeyGeneration,
}

// credentials makes the user's Secret match its authentication: a certificate for tls, a
// password for scram-sha-512, no Secret otherwise.
func (r *Reconciler) credentials(ctx context.Context, ku *v1beta1.KafkaUser) (credential, error) {
	cached := r.cachedSecret(ku)
	auth := ku.Spec.Authentication
	switch {
	case auth != nil && auth.Type == v1beta1.UserAuthTLS:
		return r.tls(ctx, ku, cached)
	case auth != nil && auth.Type == v1beta1.UserAuthScramSha512:
		return r.scramSecret(ctx, ku, cached)
	}
	if cached != nil {
		uid := cached.UID
		err := r.Kube.CoreV1().Secrets(ku.Namespace).Delete(ctx, cached.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return credential{}, fmt.Errorf("deleting the Secret %s/%s the user no longer needs: %w", ku.Namespace, cached.Name, err)
		}
		r.written.Delete(ku.UID)
		return credential{change: "deleted the Secret the user no longer needs"}, nil
	}
	return credential{}, nil
}

func (r *Reconciler) tls(ctx context.Context, ku *v1beta1.KafkaUser, cached *credentials.Cached) (credential, error) {
	if !r.CA.HasSynced() {
		return credential{}, errCANotSynced
	}
	ca, err := r.CA.Current()
	if err != nil {
		return credential{}, &invalidError{reason: v1beta1.ReasonCAUnavailable, msg: err.Error()}
	}
	validity, renewal := r.Opts.ValidityDays, r.Opts.RenewalDays
	if c := ku.Spec.Authentication.Certificate; c != nil {
		if c.ValidityDays != nil {
			validity = *c.ValidityDays
		}
		if c.RenewalDays != nil {
			renewal = *c.RenewalDays
		}
	}
	why := ""
	switch {
	case cached == nil:
		why = "the Secret does not exist"
	case !cached.Intact:
		why = "the Secret's data was changed by hand"
	default:
		why = credentials.TLSDue(cached.Issued, ca, validity, renewal, r.now())
	}
	if why == "" {
		return credential{secret: r.secretName(ku), renewAt: credentials.RenewAt(cached.Issued, renewal)}, nil
	}
	if !ca.Trusted() {
		// The clients CA key was replaced and some broker does not trust the new key yet: a
		// certificate from it would be refused. The one the user has stays until they all do.
		if cached != nil && cached.Intact {
			return credential{secret: r.secretName(ku), renewAt: r.now().Add(trustPoll)}, nil
		}
		return credential{}, &waitError{msg: fmt.Sprintf("waiting for every Kafka node to trust the new clients CA key (generation %d) before issuing a certificate from it (%s)",
			ca.KeyGeneration, why)}
	}
	data, ann, err := credentials.TLS(ca, ku.Name, validity, r.now())
	if err != nil {
		return credential{}, err
	}
	if err := r.writeSecret(ctx, ku, cached, data, ann); err != nil {
		return credential{}, err
	}
	return credential{secret: r.secretName(ku), renewAt: credentials.RenewAt(credentials.ParseIssued(ann), renewal),
		change: fmt.Sprintf("issued a certificate valid until %s (%s)", ann[credentials.AnnotationNotAfter], why)}, nil
}

func (r *Reconciler) scramSecret(ctx context.Context, ku *v1beta1.KafkaUser, cached *credentials.Cached) (credential, error) {
	source := credentials.PasswordGenerated
	ref := (*v1beta1.SecretKeySelector)(nil)
	if p := ku.Spec.Authentication.Password; p != nil {
		ref = &p.ValueFrom.SecretKeyRef
		obj, ok, _ := r.SecretsMetadata.GetByKey(ku.Namespace, ref.Name)
		if !ok {
			return credential{}, &invalidError{reason: v1beta1.ReasonSecretNotFound,
				msg: fmt.Sprintf("the password Secret %s/%s does not exist; nothing was changed", ku.Namespace, ref.Name)}
		}
		if err := passwordSourceAllowed(obj.(metav1.Object)); err != nil {
			return credential{}, err
		}
		source = fmt.Sprintf("%s/%s@%s", ref.Name, ref.Key, obj.(metav1.Object).GetResourceVersion())
	}
	why := ""
	switch {
	case cached == nil:
		why = "the Secret does not exist"
	case !cached.Intact:
		why = "the Secret's data was changed by hand"
	case cached.PasswordSource != source:
		why = "the password source changed"
	}
	if why == "" {
		return credential{secret: r.secretName(ku), scram: true, digest: cached.Digest}, nil
	}
	var password string
	if ref != nil {
		src, err := r.Kube.CoreV1().Secrets(ku.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return credential{}, &invalidError{reason: v1beta1.ReasonSecretNotFound,
				msg: fmt.Sprintf("the password Secret %s/%s does not exist; nothing was changed", ku.Namespace, ref.Name)}
		}
		if err != nil {
			return credential{}, fmt.Errorf("reading the password Secret %s/%s: %w", ku.Namespace, ref.Name, err)
		}
		if err := passwordSourceAllowed(src); err != nil {
			return credential{}, err
		}
		if src.Type == corev1.SecretTypeServiceAccountToken {
			return credential{}, &invalidError{reason: v1beta1.ReasonInvalidSpec,
				msg: fmt.Sprintf("the password Secret %s/%s is a ServiceAccount token; it may not be a password source; nothing was changed", ku.Namespace, ref.Name)}
		}
		if len(src.Data[ref.Key]) == 0 {
			return credential{}, &invalidError{reason: v1beta1.ReasonSecretNotFound,
				msg: fmt.Sprintf("the password Secret %s/%s has no key %q (or it is empty); nothing was changed", ku.Namespace, ref.Name, ref.Key)}
		}
		password = string(src.Data[ref.Key])
		source = fmt.Sprintf("%s/%s@%s", ref.Name, ref.Key, src.ResourceVersion)
	} else {
		var err error
		if password, err = credentials.GeneratePassword(); err != nil {
			return credential{}, err
		}
	}
	data, ann := credentials.SCRAM(ku.Name, password, source)
	if err := r.writeSecret(ctx, ku, cached, data, ann); err != nil {
		return credential{}, err
	}
	return credential{secret: r.secretName(ku), scram: true, digest: ann[credentials.AnnotationDigest], password: password,
		change: fmt.Sprintf("wrote the password Secret (%s)", why)}, nil
}

// passwordSourceAllowed refuses, as a user's password source, a Secret that a Kafkaplane operator
// made (it carries kafkaplane.io/kind: CA certificates and keys, node and operator certificates,
// other users' credentials): copying one would hand its key material to whoever may read the
// user's Secret.
func passwordSourceAllowed(s metav1.Object) error {
	if kind := s.GetLabels()[v1beta1.LabelKind]; kind != "" {
		return &invalidError{reason: v1beta1.ReasonInvalidSpec,
			msg: fmt.Sprintf("the password Secret %s/%s was made by a Kafkaplane operator (kafkaplane.io/kind: %s); it may not be a password source; nothing was changed",
				s.GetNamespace(), s.GetName(), kind)}
	}
	return nil
}

// trustPoll is how often a user whose certificate waits for the brokers to trust a new clients CA
// key looks again (the CA Secret's change brings it back sooner).
const trustPoll = 30 * time.Second

// readPassword reads the SCRAM password from the user's Secret, checking it is the data whose
// digest the cache showed.
func (r *Reconciler) readPassword(ctx context.Context, ku *v1beta1.KafkaUser, digest string) (string, error) {
	name := r.secretName(ku)
	s, err := r.Kube.CoreV1().Secrets(ku.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("reading the password of %s/%s: %w", ku.Namespace, ku.Name, err)
	}
	if credentials.Digest(s.Data) != digest {
		return "", fmt.Errorf("the Secret %s/%s changed while being read; retrying", ku.Namespace, name)
	}
	return string(s.Data[credentials.KeyPassword]), nil
}

// cachedSecret is the user's Secret as cached, or nil. A Secret we wrote that the cache does not
// show yet stands in for the cached one, so that a reconcile racing the watch does not write
// (and issue a certificate) again.
func (r *Reconciler) cachedSecret(ku *v1beta1.KafkaUser) *credentials.Cached {
	var cached *credentials.Cached
	if obj, ok, _ := r.Secrets.GetByKey(ku.Namespace, r.secretName(ku)); ok {
		cached = obj.(*credentials.Cached)
	}
	v, ok := r.written.Load(ku.UID)
	if !ok {
		return cached
	}
	w := v.(writtenSecret)
	if r.now().Sub(w.at) > pendingFor || (cached != nil && !ownwrites.OlderThan(cached.ResourceVersion, w.secret.ResourceVersion)) {
		r.written.Delete(ku.UID)
		return cached
	}
	return w.secret
}

// SecretHandler is the user Secrets informer's event handler that drops the copy of a Secret we
// wrote once the cache shows it (or a later version), rather than when its user is next
// reconciled, which may be a resync period away: 20,000 new users would otherwise keep 20,000
// copies until then.
func (r *Reconciler) SecretHandler() cache.ResourceEventHandler {
	seen := func(obj any) {
		c, ok := obj.(*credentials.Cached)
		if !ok || c.Owner == "" {
			return
		}
		if v, ok := r.written.Load(c.Owner); ok && !ownwrites.OlderThan(c.ResourceVersion, v.(writtenSecret).secret.ResourceVersion) {
			r.written.CompareAndDelete(c.Owner, v)
		}
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: seen, UpdateFunc: func(_, obj any) { seen(obj) }}
}

// writtenSecret is a Secret we wrote (as the cache would hold it) and when.
type writtenSecret struct {
	secret *credentials.Cached
	at     time.Time
}

// pendingFor bounds how long a written Secret stands in for a cache that does not show it
// (a watch that relisted past our version never delivers it).
const pendingFor = 30 * time.Second

// secretName is the name of the user's Secret: the operator's --secret-prefix (the Kafka's
// entityOperator.userOperator.secretPrefix) and the user's name.
func (r *Reconciler) secretName(ku *v1beta1.KafkaUser) string { return r.Opts.SecretPrefix + ku.Name }

// deleteRenamedSecret deletes the Secret the user had under an earlier secret prefix (named by
// its status) once the one under the current prefix is written: only a Secret this operator
// made for this very user (its controller reference), read from the API server, with its UID
// as a precondition; anything else of that name is left alone.
func (r *Reconciler) deleteRenamedSecret(ctx context.Context, ku *v1beta1.KafkaUser, name string) error {
	s, err := r.Kube.CoreV1().Secrets(ku.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the user's earlier Secret %s/%s: %w", ku.Namespace, name, err)
	}
	if ref := metav1.GetControllerOf(s); !madeFor(s, ku) || ref == nil || ref.UID != ku.UID {
		return nil
	}
	uid := s.UID
	err = r.Kube.CoreV1().Secrets(ku.Namespace).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting the user's earlier Secret %s/%s: %w", ku.Namespace, name, err)
	}
	klog.FromContext(ctx).Info("Deleted the Secret of the earlier secret prefix", "secret", name)
	return nil
}

// remember records a Secret just written.
func (r *Reconciler) remember(ku *v1beta1.KafkaUser, s *corev1.Secret) {
	r.written.Store(ku.UID, writtenSecret{secret: credentials.Cache(s), at: r.now()})
}

// madeFor reports whether s was made by this operator for a KafkaUser of ku's name (this one,
// or an earlier one of that name being garbage-collected).
func madeFor(s *corev1.Secret, ku *v1beta1.KafkaUser) bool {
	return s.Labels[v1beta1.LabelKind] == v1beta1.KindKafkaUser && s.Labels[v1beta1.LabelName] == ku.Name
}

// writeSecret creates the user's Secret, or patches the existing one: our keys and annotations
// are set and stale ones removed; keys, labels and annotations others added stay. A Secret of
// that name which this operator did not make is never overwritten.
func (r *Reconciler) writeSecret(ctx context.Context, ku *v1beta1.KafkaUser, cached *credentials.Cached, data map[string][]byte, ann map[string]string) error {
	labels := ownership.Labels(ku.Labels[v1beta1.LabelCluster], v1beta1.KindKafkaUser, ku.Name, SecretComponent)
	annotations := map[string]string{}
	if t := ku.Spec.Template; t != nil && t.Secret != nil && t.Secret.Metadata != nil {
		maps.Copy(annotations, t.Secret.Metadata.Annotations)
		for k, v := range t.Secret.Metadata.Labels {
			if _, ours := labels[k]; !ours {
				labels[k] = v
			}
		}
	}
	maps.Copy(annotations, ann)
	ref := ownership.ControllerRef(ku, v1beta1.KindKafkaUser)
	secrets := r.Kube.CoreV1().Secrets(ku.Namespace)
	name := r.secretName(ku)
	if cached == nil {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ku.Namespace, Labels: labels, Annotations: annotations,
				OwnerReferences: []metav1.OwnerReference{ref}},
			Type: corev1.SecretTypeOpaque,
			Data: data,
		}
		out, err := secrets.Create(ctx, s, metav1.CreateOptions{FieldManager: r.Opts.FieldManager})
		if err == nil {
			klog.FromContext(ctx).V(2).Info("Created the user Secret")
			r.remember(ku, out)
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating the Secret %s/%s: %w", ku.Namespace, name, err)
		}
		existing, err := secrets.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("reading the Secret %s/%s: %w", ku.Namespace, name, err)
		}
		if !madeFor(existing, ku) {
			return &invalidError{reason: v1beta1.ReasonResourceConflict,
				msg: fmt.Sprintf("a Secret %s/%s exists that the user operator did not make; it is left alone (rename or delete it)", ku.Namespace, name)}
		}
	}
	meta := map[string]any{"labels": labels, "ownerReferences": []metav1.OwnerReference{ref}}
	annPatch := map[string]any{}
	for _, k := range ownedAnnotations {
		annPatch[k] = nil
	}
	for k, v := range annotations {
		annPatch[k] = v
	}
	meta["annotations"] = annPatch
	dataPatch := map[string]any{}
	for _, k := range credentials.OwnedKeys {
		dataPatch[k] = nil
	}
	for k, v := range data {
		dataPatch[k] = v // []byte marshals as base64, as Secret data is
	}
	body, err := json.Marshal(map[string]any{"metadata": meta, "data": dataPatch})
	if err != nil {
		return fmt.Errorf("encoding the Secret patch: %w", err)
	}
	out, err := secrets.Patch(ctx, name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: r.Opts.FieldManager})
	if err != nil {
		return fmt.Errorf("patching the Secret %s/%s: %w", ku.Namespace, name, err)
	}
	r.remember(ku, out)
	klog.FromContext(ctx).V(2).Info("Patched the user Secret")
	return nil
}
