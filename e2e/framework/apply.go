package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the field manager of everything the tests apply.
const FieldManager = "kafkaplane-e2e"

// Applier server-side-applies YAML documents of any kind, as kubectl apply --server-side does.
type Applier struct {
	Dynamic dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
}

// NewApplier returns an Applier that discovers resources through disc.
func NewApplier(dyn dynamic.Interface, disc discovery.DiscoveryInterface) *Applier {
	return &Applier{Dynamic: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))}
}

// Decode splits a multi-document YAML stream into objects.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decoding YAML: %w", err)
		}
		if len(obj) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
}

// Resource maps an object's kind to its resource, rediscovering once on a miss (new CRDs).
func (a *Applier) Resource(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		a.mapper.Reset()
		m, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", gvk, err)
	}
	return m, nil
}

// Client returns the dynamic client for obj's resource in namespace (for namespaced kinds).
func (a *Applier) Client(obj *unstructured.Unstructured, namespace string) (dynamic.ResourceInterface, error) {
	m, err := a.Resource(obj.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameRoot {
		return a.Dynamic.Resource(m.Resource), nil
	}
	if obj.GetNamespace() != "" {
		namespace = obj.GetNamespace()
	}
	return a.Dynamic.Resource(m.Resource).Namespace(namespace), nil
}

// Apply server-side-applies every object of a YAML stream, into namespace where the object
// names none. It stops at the first error, which names the object.
func (a *Applier) Apply(ctx context.Context, namespace string, data []byte) ([]*unstructured.Unstructured, error) {
	objs, err := Decode(data)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, obj := range objs {
		res, err := a.ApplyObject(ctx, namespace, obj)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// ApplyObject server-side-applies one object.
func (a *Applier) ApplyObject(ctx context.Context, namespace string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	c, err := a.Client(obj, namespace)
	if err != nil {
		return nil, err
	}
	res, err := c.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	if err != nil {
		return nil, fmt.Errorf("applying %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return res, nil
}

// ApplyFiles applies every .yaml file of the given paths (files or directories), in name order.
func (a *Applier) ApplyFiles(ctx context.Context, namespace string, paths ...string) ([]*unstructured.Unstructured, error) {
	files, err := YAMLFiles(paths...)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return out, fmt.Errorf("reading %s: %w", f, err)
		}
		objs, err := a.Apply(ctx, namespace, data)
		out = append(out, objs...)
		if err != nil {
			return out, fmt.Errorf("%s: %w", f, err)
		}
	}
	return out, nil
}

// YAMLFiles lists the .yaml and .yml files of paths, directories walked, sorted.
func YAMLFiles(paths ...string) ([]string, error) {
	var files []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", p, err)
		}
	}
	sort.Strings(files)
	return files, nil
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallCRDs applies the CRDs in dir and waits until the API server serves them.
func (a *Applier) InstallCRDs(ctx context.Context, dir string) error {
	objs, err := a.ApplyFiles(ctx, "", dir)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, o := range objs {
		for {
			crd, err := a.Dynamic.Resource(crdResource).Get(ctx, o.GetName(), metav1.GetOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("reading CRD %s: %w", o.GetName(), err)
			}
			if err == nil && established(crd) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not established after 30s", o.GetName())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	a.mapper.Reset()
	return nil
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
