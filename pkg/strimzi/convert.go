// Package strimzi converts Strimzi manifests (kafka.strimzi.io v1alpha1, v1beta1, v1beta2 and
// v1) into Kafkaplane ones (kafkaplane.io/v1beta1): ZooKeeper-era clusters into KRaft clusters
// with node pools, the old listener map into the listener list, strimzi.io labels and
// annotations into ours, KafkaUser ACLs into the current form. Whatever has no equivalent is
// dropped, and every change, drop or decision left to the user is reported with its document
// and field path. Objects of other kinds pass through untouched.
package strimzi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// DefaultKafkaVersion is the version a cluster older than Kafka 4 (ZooKeeper's last) moves to.
const DefaultKafkaVersion = "4.1.1"

// Note is one line of the report.
type Note struct {
	// Doc names the document: source, index, kind and name.
	Doc string
	// Path is the field in the input document.
	Path string
	// Action is "changed", "dropped" or "decide" (the user must look).
	Action  string
	Message string
}

func (n Note) String() string {
	return fmt.Sprintf("%s: %s %s: %s", n.Doc, n.Action, n.Path, n.Message)
}

// Report collects the notes of a conversion.
type Report struct {
	Notes []Note
	doc   string
}

func (r *Report) add(action, path, msg string) {
	r.Notes = append(r.Notes, Note{Doc: r.doc, Path: path, Action: action, Message: msg})
}
func (r *Report) change(path, msg string) { r.add("changed", path, msg) }
func (r *Report) drop(path, msg string)   { r.add("dropped", path, msg) }
func (r *Report) decide(path, msg string) { r.add("decide", path, msg) }

// Object is a decoded manifest.
type Object = map[string]any

// Convert reads the YAML or JSON documents of one input (List objects are unpacked) and returns
// the converted objects in order. It fails only on input it cannot read.
func Convert(data []byte, source string, r *Report) ([]Object, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []Object
	for i := 0; ; i++ {
		var o Object
		if err := dec.Decode(&o); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s: document %d: %w", source, i+1, err)
		}
		if o == nil {
			continue
		}
		items := []Object{o}
		if kind, _ := o["kind"].(string); strings.HasSuffix(kind, "List") {
			items = nil
			for _, it := range list(o["items"]) {
				if m, ok := it.(Object); ok {
					items = append(items, m)
				}
			}
		}
		for _, it := range items {
			out = append(out, convertObject(it, fmt.Sprintf("%s#%d", source, i+1), r)...)
		}
	}
}

// Marshal writes objects as multi-document YAML.
func Marshal(objs []Object) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}

func convertObject(o Object, where string, r *Report) []Object {
	apiVersion, _ := o["apiVersion"].(string)
	kind, _ := o["kind"].(string)
	group, version, _ := strings.Cut(apiVersion, "/")
	if group != "kafka.strimzi.io" {
		return []Object{o}
	}
	name, _ := get(o, "metadata", "name").(string)
	r.doc = fmt.Sprintf("%s %s/%s", where, kind, name)
	var extra []Object
	switch kind {
	case "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser":
	default:
		r.drop("", "kind "+kind+" has no Kafkaplane equivalent (not converted)")
		return nil
	}
	nodePools := get(o, "metadata", "annotations", "strimzi.io/node-pools") == "enabled"
	o["apiVersion"] = v1beta1.SchemeGroupVersion.String()
	if version != "v1beta2" && version != "v1" {
		r.change("apiVersion", apiVersion+" → "+v1beta1.SchemeGroupVersion.String())
	}
	convertMeta(o, r)
	if _, ok := o["status"]; ok {
		delete(o, "status")
	}
	spec, _ := o["spec"].(Object)
	if spec == nil {
		spec = Object{}
		o["spec"] = spec
	}
	var t reflect.Type
	switch kind {
	case "Kafka":
		extra = convertKafka(o, spec, nodePools, r)
		t = reflect.TypeFor[v1beta1.KafkaSpec]()
	case "KafkaNodePool":
		t = reflect.TypeFor[v1beta1.KafkaNodePoolSpec]()
	case "KafkaTopic":
		t = reflect.TypeFor[v1beta1.KafkaTopicSpec]()
	case "KafkaUser":
		convertUser(spec, r)
		t = reflect.TypeFor[v1beta1.KafkaUserSpec]()
	}
	o["spec"] = prune(spec, t, "spec", r)
	for _, e := range extra {
		if e["apiVersion"] == v1beta1.SchemeGroupVersion.String() {
			if s, ok := e["spec"].(Object); ok {
				e["spec"] = prune(s, reflect.TypeFor[v1beta1.KafkaNodePoolSpec](), "spec(pool "+str(get(e, "metadata", "name"))+")", r)
			}
		}
	}
	strimziSelectors(o["spec"], "spec", r)
	for _, e := range extra {
		if e["kind"] == "KafkaNodePool" {
			strimziSelectors(e["spec"], "spec(pool "+str(get(e, "metadata", "name"))+")", r)
		}
	}
	return append([]Object{o}, extra...)
}

// strimziSelectors reports label selectors (affinity, topology spread) that match Strimzi's pod
// labels, which Kafkaplane's pods do not carry: the user decides what they should select.
func strimziSelectors(v any, path string, r *Report) {
	switch x := v.(type) {
	case Object:
		for _, k := range sortedKeys(x) {
			if strings.HasPrefix(k, "strimzi.io/") && (strings.HasSuffix(path, "matchLabels") || strings.HasSuffix(path, "matchExpressions")) {
				r.decide(path+"."+k, "selects a Strimzi pod label; Kafkaplane's pods carry kafkaplane.io/ and app.kubernetes.io/ labels (e.g. kafkaplane.io/cluster, kafkaplane.io/pool)")
				continue
			}
			strimziSelectors(x[k], path+"."+k, r)
		}
	case []any:
		for i, e := range x {
			if m, ok := e.(Object); ok && strings.HasSuffix(path, "matchExpressions") {
				if key, _ := m["key"].(string); strings.HasPrefix(key, "strimzi.io/") {
					r.decide(fmt.Sprintf("%s[%d].key", path, i), "selects a Strimzi pod label ("+key+"); Kafkaplane's pods carry kafkaplane.io/ and app.kubernetes.io/ labels")
				}
				continue
			}
			strimziSelectors(e, fmt.Sprintf("%s[%d]", path, i), r)
		}
	}
}

// labels and annotations with a Kafkaplane equivalent.
var metaKeys = map[string]string{
	"strimzi.io/cluster":               v1beta1.LabelCluster,
	"strimzi.io/pause-reconciliation":  v1beta1.AnnotationPauseReconciliation,
	"strimzi.io/managed":               v1beta1.AnnotationManaged,
	"strimzi.io/manual-rolling-update": v1beta1.AnnotationManualRollingUpdate,
	"strimzi.io/next-node-ids":         v1beta1.AnnotationNextNodeIDs,
	"strimzi.io/remove-node-ids":       v1beta1.AnnotationRemoveNodeIDs,
}

// obsolete are Strimzi annotations that Kafkaplane needs no equivalent of.
var obsolete = map[string]string{
	"strimzi.io/kraft":      "Kafkaplane clusters are always KRaft",
	"strimzi.io/node-pools": "Kafkaplane clusters always use KafkaNodePools",
}

func convertMeta(o Object, r *Report) {
	meta, _ := o["metadata"].(Object)
	if meta == nil {
		return
	}
	for _, k := range []string{"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink"} {
		delete(meta, k)
	}
	for _, field := range []string{"labels", "annotations"} {
		m, _ := meta[field].(Object)
		for _, k := range sortedKeys(m) {
			if !strings.HasPrefix(k, "strimzi.io/") {
				continue
			}
			v := m[k]
			delete(m, k)
			if to, ok := metaKeys[k]; ok {
				m[to] = v
				r.change("metadata."+field+"."+k, "→ "+to)
			} else if why, ok := obsolete[k]; ok {
				r.drop("metadata."+field+"."+k, why)
			} else {
				r.drop("metadata."+field+"."+k, "no Kafkaplane equivalent")
			}
		}
		if m != nil && len(m) == 0 {
			delete(meta, field)
		}
	}
}

// convertUser moves a KafkaUser's ACLs to the current form.
func convertUser(spec Object, r *Report) {
	acls := list(get(spec, "authorization", "acls"))
	for i, a := range acls {
		acl, ok := a.(Object)
		if !ok {
			continue
		}
		path := fmt.Sprintf("spec.authorization.acls[%d]", i)
		if op, ok := acl["operation"]; ok {
			delete(acl, "operation")
			ops := list(acl["operations"])
			acl["operations"] = append(ops, op)
			r.change(path+".operation", "→ operations")
		}
	}
	// tls-external stays: dropping it would move the user's ACLs from User:CN=<name> to
	// User:<name>, a principal a SCRAM user of that name has.
}

func get(o any, path ...string) any {
	for _, p := range path {
		m, ok := o.(Object)
		if !ok {
			return nil
		}
		o = m[p]
	}
	return o
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }
