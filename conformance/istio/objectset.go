package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"

	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/resource"
)

// Document is one YAML document of an object set, as generic JSON.
type Document struct {
	Source string
	Object map[string]any
}

// Kind returns the document's kind.
func (d Document) Kind() string { s, _ := d.Object["kind"].(string); return s }

// APIVersion returns the document's apiVersion.
func (d Document) APIVersion() string { s, _ := d.Object["apiVersion"].(string); return s }

// Ref names the document the way kubectl does: Kind namespace/name.
func (d Document) Ref() string {
	meta, _ := d.Object["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	return fmt.Sprintf("%s %s/%s", d.Kind(), namespaceOf(d.Object), name)
}

// IstioObject is an Istio document converted to Istio's internal config model, or the reason it could not be.
type IstioObject struct {
	Doc    Document
	Config *config.Config
	Schema resource.Schema
	Err    error
}

// ObjectSet is everything one directory holds: what would be applied to one cluster together.
type ObjectSet struct {
	Name  string
	Docs  []Document
	Istio []IstioObject
	// Expectations is what the library's trace says istiod must generate (expectations.json); nil when absent.
	Expectations *Expectations
	// ztunnel is what the ambient index of the last Generate gave ztunnel (nil for a set without ambient).
	ztunnel *ZtunnelReport
}

// LoadObjectSet reads every *.yaml and *.yml file of dir (not recursively).
func LoadObjectSet(dir string) (*ObjectSet, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	set := &ObjectSet{Name: filepath.Base(dir)}
	if set.Expectations, err = LoadExpectations(dir); err != nil {
		return nil, err
	}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		docs, err := readDocuments(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		set.Docs = append(set.Docs, docs...)
	}
	for _, d := range set.Docs {
		if isIstioGroup(d.APIVersion()) {
			set.Istio = append(set.Istio, convertIstio(d))
		}
	}
	return set, nil
}

// ListObjectSets returns the subdirectories of root, sorted.
func ListObjectSets(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(root, e.Name()))
		}
	}
	sort.Strings(dirs)
	return dirs, nil
}

func readDocuments(path string) ([]Document, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []Document
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if obj == nil {
			continue
		}
		if obj["kind"] == "List" {
			items, _ := obj["items"].([]any)
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					out = append(out, Document{Source: path, Object: m})
				}
			}
			continue
		}
		out = append(out, Document{Source: path, Object: obj})
	}
}

func isIstioGroup(apiVersion string) bool {
	group := strings.Split(apiVersion, "/")[0]
	return strings.HasSuffix(group, ".istio.io")
}

// convertIstio does what the webhook does before validating: find the schema and decode the spec into the proto.
func convertIstio(d Document) IstioObject {
	gv, err := schema.ParseGroupVersion(d.APIVersion())
	if err != nil {
		return IstioObject{Doc: d, Err: err}
	}
	gvk := gv.WithKind(d.Kind())
	s, ok := collections.PilotGatewayAPI().FindByGroupVersionAliasesKind(resource.FromKubernetesGVK(&gvk))
	if !ok {
		return IstioObject{Doc: d, Err: fmt.Errorf("istiod does not know %s", gvk)}
	}
	js, err := json.Marshal(d.Object)
	if err != nil {
		return IstioObject{Doc: d, Schema: s, Err: err}
	}
	var kind crd.IstioKind
	if err := json.Unmarshal(js, &kind); err != nil {
		return IstioObject{Doc: d, Schema: s, Err: err}
	}
	if kind.Namespace == "" {
		kind.Namespace = "default"
	}
	cfg, err := crd.ConvertObject(s, &kind, "cluster.local")
	return IstioObject{Doc: d, Config: cfg, Schema: s, Err: err}
}

// KubernetesObjects returns the Services and Namespaces of the set, the objects the service registry reads.
func (s *ObjectSet) KubernetesObjects() ([]runtime.Object, error) {
	var out []runtime.Object
	seen := map[string]bool{}
	for _, d := range s.Docs {
		switch {
		case d.APIVersion() == "v1" && d.Kind() == "Service":
			svc := &corev1.Service{}
			if err := remarshal(d.Object, svc); err != nil {
				return nil, fmt.Errorf("%s: %v", d.Ref(), err)
			}
			if svc.Namespace == "" {
				svc.Namespace = "default"
			}
			key := svc.Namespace + "/" + svc.Name
			if seen[key] {
				// A second document for the same Service is a patch (server-side apply) of the first: the
				// registry keeps one, the first, which carries the selector and ports.
				continue
			}
			seen[key] = true
			out = append(out, svc)
		case d.APIVersion() == "v1" && d.Kind() == "Namespace":
			ns := &corev1.Namespace{}
			if err := remarshal(d.Object, ns); err != nil {
				return nil, fmt.Errorf("%s: %v", d.Ref(), err)
			}
			out = append(out, ns)
		}
	}
	return out, nil
}

func remarshal(in any, out any) error {
	js, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(js, out)
}

func namespaceOf(obj map[string]any) string {
	meta, _ := obj["metadata"].(map[string]any)
	if ns, _ := meta["namespace"].(string); ns != "" {
		return ns
	}
	return "default"
}
