package conformance

import (
	"fmt"
	"maps"
	"sort"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pkg/config/mesh"
)

// Annotations and labels read the way the sidecar injector and pilot-agent read them.
const (
	proxyConfigAnnotation      = "proxy.istio.io/config"
	interceptionModeAnnotation = "sidecar.istio.io/interceptionMode"
	injectTemplatesAnnotation  = "inject.istio.io/templates"
	injectLabel                = "sidecar.istio.io/inject"
	dataplaneModeLabel         = "istio.io/dataplane-mode"
)

var podTemplateKinds = map[string]bool{
	"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true, "Job": true, "Pod": true,
}

// ProxySpec is one Envoy that istiod would configure for the set: a gateway or an injected sidecar.
type ProxySpec struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Router for gateways, Sidecar for injected workloads.
	Type string `json:"type"`
	// Source says where the proxy comes from: the workload's Ref, or the Gateway whose selector matched no pod.
	Source           string            `json:"source"`
	Labels           map[string]string `json:"labels"`
	InterceptionMode string            `json:"interceptionMode"`
	// NumTrustedProxies and ProxyProtocol are the resolved gatewayTopology, from mesh defaults and the annotation.
	NumTrustedProxies uint32 `json:"numTrustedProxies"`
	ProxyProtocol     bool   `json:"gatewayTopologyProxyProtocol"`
	// StatusPortProxyProtocol is the ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL env of the istio-proxy container.
	StatusPortProxyProtocol bool `json:"statusPortProxyProtocolEnv"`

	ProxyConfig *meshconfig.ProxyConfig `json:"-"`
	env         map[string]string
	// gatewayAPI is the automated deployment of a Gateway API gateway (nil for every other proxy).
	gatewayAPI *RenderedGateway
}

// Proxies lists every gateway and sidecar of the set. A networking.istio.io Gateway whose selector matches no
// pod template of the set stands for an installed gateway: it becomes a router with the selector's labels and
// the mesh's default ProxyConfig, in the Gateway's namespace.
func (s *ObjectSet) Proxies(m *meshconfig.MeshConfig) ([]ProxySpec, []error) {
	var out []ProxySpec
	var errs []error
	gateways := s.istioGatewaySelectors()
	ambient := s.ambientNamespaces()
	for _, d := range s.Docs {
		if !podTemplateKinds[d.Kind()] {
			continue
		}
		labels, annotations, env := podTemplate(d.Object)
		if labels[injectLabel] == "false" || annotations[injectLabel] == "false" || labels[dataplaneModeLabel] == "ambient" {
			continue
		}
		// The injector's webhook selects namespaces labelled for sidecar injection; an ambient namespace without that
		// label gets no sidecar unless the pod asks for one.
		if ambient[namespaceOf(d.Object)] && labels[injectLabel] != "true" {
			continue
		}
		pc, err := mesh.ApplyProxyConfig(annotations[proxyConfigAnnotation], m)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %v", d.Ref(), proxyConfigAnnotation, err))
			continue
		}
		router := annotations[injectTemplatesAnnotation] == "gateway" || selectedByAny(gateways, labels)
		p := newProxySpec(nameOf(d.Object), namespaceOf(d.Object), d.Ref(), labels, pc.DefaultConfig, router)
		if !router {
			p.InterceptionMode = interceptionMode(annotations, pc.DefaultConfig)
		}
		p.StatusPortProxyProtocol = env["ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL"] == "true"
		p.env = env
		out = append(out, p)
	}
	for _, g := range gateways {
		if len(g.selector) == 0 || anyProxySelected(out, g.selector) {
			continue
		}
		name := g.selector["istio"]
		if name == "" {
			name = g.selector["app"]
		}
		if name == "" {
			name = g.name
		}
		out = append(out, newProxySpec(name, g.namespace, "installed gateway selected by "+g.ref, g.selector, m.DefaultConfig, true))
	}
	return out, errs
}

func newProxySpec(name, ns, source string, labels map[string]string, pc *meshconfig.ProxyConfig, router bool) ProxySpec {
	p := ProxySpec{Name: name, Namespace: ns, Source: source, Labels: maps.Clone(labels), ProxyConfig: pc, Type: "Sidecar"}
	if router {
		p.Type = "Router"
	}
	if t := pc.GetGatewayTopology(); t != nil {
		p.NumTrustedProxies = t.GetNumTrustedProxies()
		p.ProxyProtocol = t.GetProxyProtocol() != nil
	}
	return p
}

// interceptionMode is what the injector writes into the pod: the annotation, else the ProxyConfig's mode.
func interceptionMode(annotations map[string]string, pc *meshconfig.ProxyConfig) string {
	if v, ok := annotations[interceptionModeAnnotation]; ok {
		return v
	}
	return pc.GetInterceptionMode().String()
}

// ambientNamespaces are the set's Namespaces labelled istio.io/dataplane-mode=ambient and not labelled for sidecar
// injection (istio-injection=enabled or istio.io/rev).
func (s *ObjectSet) ambientNamespaces() map[string]bool {
	out := map[string]bool{}
	for _, d := range s.Docs {
		if d.APIVersion() != "v1" || d.Kind() != "Namespace" {
			continue
		}
		meta, _ := d.Object["metadata"].(map[string]any)
		labels := stringMap(meta["labels"])
		if labels[dataplaneModeLabel] == "ambient" && labels["istio-injection"] != "enabled" && labels["istio.io/rev"] == "" {
			out[nameOf(d.Object)] = true
		}
	}
	return out
}

type gatewaySelector struct {
	ref, name, namespace string
	selector             map[string]string
}

func (s *ObjectSet) istioGatewaySelectors() []gatewaySelector {
	var out []gatewaySelector
	for _, d := range s.Docs {
		if d.Kind() != "Gateway" || !isIstioGroup(d.APIVersion()) {
			continue
		}
		spec, _ := d.Object["spec"].(map[string]any)
		out = append(out, gatewaySelector{ref: d.Ref(), name: nameOf(d.Object), namespace: namespaceOf(d.Object), selector: stringMap(spec["selector"])})
	}
	return out
}

func selectedByAny(gateways []gatewaySelector, labels map[string]string) bool {
	for _, g := range gateways {
		if len(g.selector) > 0 && selects(g.selector, labels) {
			return true
		}
	}
	return false
}

func anyProxySelected(proxies []ProxySpec, selector map[string]string) bool {
	for _, p := range proxies {
		if p.Type == "Router" && selects(selector, p.Labels) {
			return true
		}
	}
	return false
}

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// podTemplate returns the labels, annotations and istio-proxy container env of a workload's pod template.
func podTemplate(obj map[string]any) (labels, annotations, env map[string]string) {
	meta, spec := obj["metadata"], obj["spec"]
	if obj["kind"] != "Pod" {
		s, _ := spec.(map[string]any)
		t, _ := s["template"].(map[string]any)
		meta, spec = t["metadata"], t["spec"]
	}
	m, _ := meta.(map[string]any)
	labels, annotations, env = stringMap(m["labels"]), stringMap(m["annotations"]), map[string]string{}
	sp, _ := spec.(map[string]any)
	containers, _ := sp["containers"].([]any)
	for _, c := range containers {
		cm, _ := c.(map[string]any)
		if cm["name"] != "istio-proxy" {
			continue
		}
		vars, _ := cm["env"].([]any)
		for _, v := range vars {
			vm, _ := v.(map[string]any)
			name, _ := vm["name"].(string)
			value, _ := vm["value"].(string)
			env[name] = value
		}
	}
	return labels, annotations, env
}

func stringMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, val := range m {
		if s, ok := val.(string); ok {
			out[k] = s
		}
	}
	return out
}

func nameOf(obj map[string]any) string {
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	return name
}

// sortedKeys is used to keep reports stable.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
