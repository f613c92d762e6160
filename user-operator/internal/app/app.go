// Package app wires the user operator: its flags, the Kafka client and batched admin, the
// KafkaUser, user-Secret and clients-CA watches, and the reconcile controller.
package app

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
	"github.com/kafkaplane/kafkaplane/pkg/controller"
	"github.com/kafkaplane/kafkaplane/pkg/kafka/client"
	"github.com/kafkaplane/kafkaplane/pkg/operator"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/clientsca"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/credentials"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/kafka"
	"github.com/kafkaplane/kafkaplane/user-operator/internal/users"
)

// DefaultWorkers is high because reconciles mostly wait on the API server and Kafka (measured:
// 64 workers took 1.6x the floor for 1,000 users, 256 workers 1.0x; goroutines are cheap), and
// concurrent reconciles are what the admin batches into single requests.
const DefaultWorkers = 256

// DefaultGCPercent is lower than Go's 100 because the user operator's heap is mostly long-lived
// caches (users, their Secrets, Kafka's ACLs): the garbage collector then lets the heap grow by
// 40% of it rather than 100% before collecting. Measured with make bench-users at 20,000 users:
// peak RSS 199 MiB at 100, 151–154 MiB at 50, 146 MiB at 40, for 17% more operator CPU (128 s
// instead of 110 s) than at 100.
const DefaultGCPercent = 40

// Config holds the user operator's own flags.
type Config struct {
	Kafka                      client.Options
	CANamespace, CACert, CAKey string
	ValidityDays, RenewalDays  int
	SuperUsers                 string
	SecretPrefix               string
}

// AddFlags registers the flags.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	c.Kafka.AddFlags(fs)
	fs.StringVar(&c.CANamespace, "clients-ca-namespace", "", "namespace of the clients CA Secrets; default: the only watched namespace")
	fs.StringVar(&c.CACert, "clients-ca-cert-secret", "", "Secret with the clients CA certificate (ca.crt); default: <cluster>-clients-ca-cert for the kafkaplane.io/cluster of --resource-labels")
	fs.StringVar(&c.CAKey, "clients-ca-key-secret", "", "Secret with the clients CA key (ca.key); default: <cluster>-clients-ca")
	fs.IntVar(&c.ValidityDays, "certificate-validity-days", 365, "validity of user certificates, unless a user sets its own")
	fs.IntVar(&c.RenewalDays, "certificate-renewal-days", 30, "days before expiry at which user certificates are renewed, unless a user sets its own")
	fs.StringVar(&c.SecretPrefix, "secret-prefix", "", "prefix of the users' Secret names (<prefix><user>)")
	fs.StringVar(&c.SuperUsers, "super-users", "", "semicolon-separated super users of the Kafka cluster (e.g. User:CN=admin;User:root), which no KafkaUser may manage")
}

// Defaults sets the common options' defaults for the user operator.
func Defaults(o *operator.Options) { o.Workers, o.GCPercent = DefaultWorkers, DefaultGCPercent }

// Setup registers the KafkaUser controller.
func (c *Config) Setup(ctx context.Context, m *operator.Manager) error {
	if c.ValidityDays < 1 || c.RenewalDays < 1 || c.RenewalDays >= c.ValidityDays {
		return fmt.Errorf("--certificate-renewal-days (%d) must be at least 1 and less than --certificate-validity-days (%d)", c.RenewalDays, c.ValidityDays)
	}
	cluster := clusterOf(m.Options.ResourceLabels)
	if err := c.caDefaults(m, cluster); err != nil {
		return err
	}
	kc, err := client.New(c.Kafka, "kafkaplane-user-operator")
	if err != nil {
		return err
	}
	observe, err := m.Metrics.BatchSizes("user_operator", "Users per Kafka admin request, by operation.")
	if err != nil {
		return err
	}
	admin := kafka.NewAdmin(kc, observe)

	kus := m.KafkaUsers()
	if err := kus.SetTransform(users.CacheTransform); err != nil {
		return err
	}
	single := len(m.Namespaces) == 1
	if err := kus.AddIndexers(users.IndexersFor(single)); err != nil {
		return err
	}
	admin.Managed = func(user string) bool {
		name := strings.TrimPrefix(user, "CN=")
		if single {
			_, ok, _ := kus.GetByKey(m.Namespaces[0], name)
			return ok
		}
		objs, _ := kus.ByIndex(users.IndexName, name)
		return len(objs) > 0
	}
	selector := v1beta1.LabelKind + "=" + v1beta1.KindKafkaUser
	if m.Options.ResourceLabels != "" {
		selector += "," + m.Options.ResourceLabels
	}
	owned := m.OwnedSecrets(selector, credentials.CacheTransform)
	// Password sources are the users' own Secrets: the ones this operator writes are cached
	// above, not twice.
	meta := m.SecretsMetadata(v1beta1.LabelKind + "!=" + v1beta1.KindKafkaUser)
	ca := clientsca.New(m.Kube, c.CANamespace, c.CACert, c.CAKey)

	rec := &users.Reconciler{Kube: m.Kube, Client: m.Kafkaplane, Users: kus, SingleNamespace: single, Secrets: owned, SecretsMetadata: meta,
		CA: ca, Admin: admin, Recorder: m.Recorder,
		Opts: users.Options{ValidityDays: int32(c.ValidityDays), RenewalDays: int32(c.RenewalDays), FieldManager: m.FieldManager,
			SuperUsers: splitSuperUsers(c.SuperUsers), SecretPrefix: c.SecretPrefix}}
	keys := func() []controller.Key { return kus.Keys() }
	ctl, err := controller.New(controller.Options{
		Name: "kafkauser", Reconciler: rec, Workers: m.Options.Workers, Metrics: m.Metrics,
		ResyncPeriod: m.Options.ResyncPeriod,
		ListKeys: func() ([]controller.Key, error) {
			// Each resync first re-reads Kafka, so that changes made with Kafka tools are repaired.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := admin.Refresh(ctx); err != nil {
				klog.Background().Error(err, "Refreshing the view of Kafka's ACLs, quotas and SCRAM credentials failed")
			}
			return keys(), nil
		},
	})
	if err != nil {
		return err
	}
	if err := kus.AddEventHandler(ctl.SpecEventHandler()); err != nil {
		return err
	}
	if err := kus.AddEventHandler(rec.MemoHandler()); err != nil {
		return err
	}
	if err := owned.AddEventHandler(ctl.OwnerHandler(v1beta1.KindKafkaUser)); err != nil {
		return err
	}
	if err := owned.AddEventHandler(rec.SecretHandler()); err != nil {
		return err
	}
	if err := meta.AddEventHandler(passwordSourceHandler(ctl, kus)); err != nil {
		return err
	}
	ca.OnChange(func() {
		for _, k := range keys() {
			ctl.EnqueueKey(k)
		}
	})
	m.WaitFor(kus, owned, meta)
	m.AddRunnable(ca.Run)
	m.AddController(ctl)
	m.AddRunnable(admin.Run)
	m.ReportManaged("kafkauser", kus)
	m.AddRunnable(func(ctx context.Context) {
		<-ctx.Done()
		kc.Close()
	})
	return nil
}

// caDefaults fills the clients CA Secret names from the cluster and the namespace.
func (c *Config) caDefaults(m *operator.Manager, cluster string) error {
	if c.CACert == "" && cluster != "" {
		c.CACert = v1beta1.ClientsCACertSecretName(cluster)
	}
	if c.CAKey == "" && cluster != "" {
		c.CAKey = v1beta1.ClientsCAKeySecretName(cluster)
	}
	if c.CANamespace == "" && (c.CACert != "" || c.CAKey != "") {
		if len(m.Namespaces) != 1 {
			return fmt.Errorf("--clients-ca-namespace is needed when watching %s", m.Namespaces)
		}
		c.CANamespace = m.Namespaces[0]
	}
	return nil
}

// clusterOf returns the kafkaplane.io/cluster value of a label selector, or "".
func clusterOf(selector string) string {
	sel, err := labels.Parse(selector)
	if err != nil {
		return ""
	}
	reqs, _ := sel.Requirements()
	for _, r := range reqs {
		if r.Key() == v1beta1.LabelCluster && (r.Operator() == selection.Equals || r.Operator() == selection.DoubleEquals) {
			return r.Values().List()[0]
		}
	}
	return ""
}

// passwordSourceHandler enqueues the SCRAM users whose password Secret changed.
func passwordSourceHandler(ctl *controller.Controller, kus interface {
	ByIndex(index, value string) ([]any, error)
}) cache.ResourceEventHandler {
	enqueue := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		key, err := cache.MetaNamespaceKeyFunc(obj)
		if err != nil {
			return
		}
		objs, _ := kus.ByIndex(users.IndexPasswordSecret, key)
		for _, u := range objs {
			ctl.Enqueue(u)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, newObj any) { enqueue(newObj) },
		DeleteFunc: enqueue,
	}
}

// splitSuperUsers reads --super-users: principals separated by semicolons (a principal such as
// User:CN=a,O=b has commas), as Kafka's super.users.
func splitSuperUsers(s string) []string {
	var out []string
	for u := range strings.SplitSeq(s, ";") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}
