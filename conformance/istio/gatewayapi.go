package conformance

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	kubeversion "k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/config/kube/gatewaycommon"
	"istio.io/istio/pilot/pkg/config/memory"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/mesh/meshwatcher"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/gvk"
	"istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/kube/inject"
	"istio.io/istio/pkg/revisions"
	"istio.io/istio/pkg/test"
)

// gatewayAPIGroup is the Kubernetes Gateway API's group; its Gateways of class istio get an automated deployment.
const gatewayAPIGroup = "gateway.networking.k8s.io"

// proxyConfigEnv is the istio-proxy container's env with the ProxyConfig istiod resolved for the gateway.
const proxyConfigEnv = "PROXY_CONFIG"

// RenderedGateway is what istiod's gateway deployment controller applied for one Gateway API Gateway.
type RenderedGateway struct {
	// Gateway is the Gateway's Ref; Name and Namespace are the Gateway's.
	Gateway, Name, Namespace string
	Deployment               *appsv1.Deployment
	Service                  *corev1.Service
	// Kinds lists every kind the controller applied, sorted.
	Kinds []string
}

// GatewayAPIReport is what the automated deployment of a Gateway API gateway gives the proxy.
type GatewayAPIReport struct {
	Gateway string          `json:"gateway"`
	Service ServiceReport   `json:"service"`
	Kinds   []string        `json:"renderedKinds"`
	Config  json.RawMessage `json:"proxyConfig"`
}

// ServiceReport holds the rendered Service's fields that decide whether the client address survives the load balancer.
type ServiceReport struct {
	Name                  string              `json:"name"`
	Type                  string              `json:"type"`
	ExternalTrafficPolicy string              `json:"externalTrafficPolicy"`
	IPFamilyPolicy        string              `json:"ipFamilyPolicy"`
	Annotations           map[string]string   `json:"annotations"`
	Ports                 []ServicePortReport `json:"ports"`
}

// ServicePortReport is one port of the rendered Service.
type ServicePortReport struct {
	Name        string `json:"name"`
	Port        int32  `json:"port"`
	AppProtocol string `json:"appProtocol"`
}

// gatewayAPIGateways returns the set's Gateway API Gateways of a class istio's deployment controller manages.
func (s *ObjectSet) gatewayAPIGateways() []Document {
	var out []Document
	for _, d := range s.Docs {
		if d.Kind() != "Gateway" || groupOf(d.APIVersion()) != gatewayAPIGroup {
			continue
		}
		spec, _ := d.Object["spec"].(map[string]any)
		if class, _ := spec["gatewayClassName"].(string); class == features.GatewayAPIDefaultGatewayClass {
			out = append(out, d)
		}
	}
	return out
}

// GatewayAPIObjects decodes the set's Gateway API objects and the ConfigMaps and Secrets they refer to, as the
// typed objects istiod's informers hold. An object written at another version than the one istiod watches is
// read at the watched one, as the API server serves it when the CRD serves both (conversion None); notes say so.
func (s *ObjectSet) GatewayAPIObjects() (out []runtime.Object, notes []string, err error) {
	decode := kube.IstioCodec.UniversalDeserializer().Decode
	for _, d := range s.Docs {
		core := d.APIVersion() == "v1" && (d.Kind() == "ConfigMap" || d.Kind() == "Secret")
		if groupOf(d.APIVersion()) != gatewayAPIGroup && !core {
			continue
		}
		obj := maps.Clone(d.Object)
		meta, _ := obj["metadata"].(map[string]any)
		meta = maps.Clone(meta)
		if meta == nil {
			meta = map[string]any{}
		}
		meta["namespace"] = namespaceOf(d.Object)
		obj["metadata"] = meta
		if watched := watchedAPIVersion(d); watched != d.APIVersion() {
			obj["apiVersion"] = watched
			notes = append(notes, fmt.Sprintf("%s is %s, istiod %s reads %s at %s: the cluster's CRD must serve both "+
				"(for TCPRoute and TLSRoute before v1, the Gateway API experimental channel)", d.Ref(), d.APIVersion(), IstioVersion, d.Kind(), watched))
		}
		js, err := json.Marshal(obj)
		if err != nil {
			return nil, nil, err
		}
		o, _, err := decode(js, nil, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", d.Ref(), err)
		}
		out = append(out, o)
	}
	return out, notes, nil
}

// watchedAPIVersion is the apiVersion istiod's informer reads a Gateway API kind at (the document's own otherwise).
func watchedAPIVersion(d Document) string {
	group := groupOf(d.APIVersion())
	if group != gatewayAPIGroup {
		return d.APIVersion()
	}
	schema, ok := collections.All.FindByGroupKind(config.GroupVersionKind{Group: group, Kind: d.Kind()})
	if !ok {
		return d.APIVersion()
	}
	return group + "/" + schema.Version()
}

func groupOf(apiVersion string) string {
	if !strings.Contains(apiVersion, "/") {
		return ""
	}
	return strings.Split(apiVersion, "/")[0]
}

// RenderGatewayDeployments runs istiod's gateway deployment controller (pilot/pkg/config/kube/gatewaycommon) on
// the set's Gateway API Gateways of class istio, with the kube-gateway injection template of the pinned Istio, the
// parametersRef ConfigMaps and the ProxyConfig resources of the set, and returns what it applied per Gateway.
// The controller's server-side applies are caught on the fake client instead of reaching an API server.
func RenderGatewayDeployments(t test.Failer, set *ObjectSet, m *meshconfig.MeshConfig) (rendered []RenderedGateway, manual []string, err error) {
	gateways := append(set.gatewayAPIGateways(), set.waypointGateways()...)
	if len(gateways) == 0 {
		return nil, nil, nil
	}
	objects, _, err := set.GatewayAPIObjects()
	if err != nil {
		return nil, nil, err
	}
	k8s, err := set.KubernetesObjects()
	if err != nil {
		return nil, nil, err
	}
	for _, o := range k8s {
		if _, ok := o.(*corev1.Namespace); ok {
			objects = append(objects, o)
		}
	}
	webhook, err := gatewayInjectionConfig(m)
	if err != nil {
		return nil, nil, err
	}

	client := kube.NewFakeClient(objects...)
	client.Kube().Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &kubeversion.Info{Major: "1", Minor: "32"}
	applied := &appliedObjects{}
	client.Dynamic().(*dynamicfake.FakeDynamicClient).PrependReactor("patch", "*", applied.react)

	env := model.NewEnvironment()
	env.Watcher = meshwatcher.NewTestWatcher(m)
	env.PushContext().ProxyConfigs = model.GetProxyConfigs(proxyConfigStore(set), m)
	env.PushContext().InitDone.Store(true)
	stop := test.NewStop(t)
	tags := revisions.NewTagWatcher(client, "", rootNamespace)
	controller := gatewaycommon.NewDeploymentController(client, cluster.ID(constants.DefaultClusterName), env,
		func() inject.WebhookConfig { return webhook }, func(func()) {}, tags, "", rootNamespace)
	client.RunAndWait(stop)
	go tags.Run(stop)
	kube.WaitForCacheSync("gateway deployment", stop, tags.HasSynced)

	for _, d := range gateways {
		name := types.NamespacedName{Namespace: namespaceOf(d.Object), Name: nameOf(d.Object)}
		if gw := typedGateway(objects, name); gw != nil && !gatewaycommon.IsManaged(&gw.Spec) {
			manual = append(manual, fmt.Sprintf("%s is deployed manually (spec.addresses names its Service): istiod renders "+
				"nothing for it, its pods are the set's own", d.Ref()))
			continue
		}
		applied.reset()
		if err := controller.Reconcile(name); err != nil {
			return nil, nil, fmt.Errorf("%s: istiod's gateway deployment controller: %v", d.Ref(), err)
		}
		r, err := applied.rendered(d)
		if err != nil {
			return nil, nil, err
		}
		rendered = append(rendered, r)
	}
	return rendered, manual, nil
}

func typedGateway(objects []runtime.Object, name types.NamespacedName) *gatewayv1.Gateway {
	for _, o := range objects {
		if gw, ok := o.(*gatewayv1.Gateway); ok && gw.Namespace == name.Namespace && gw.Name == name.Name {
			return gw
		}
	}
	return nil
}

// gatewayInjectionConfig is the injection config istiod renders gateways with: the kube-gateway template of the
// pinned istio.io/istio module (the istiod chart's), its values, and the mesh config.
func gatewayInjectionConfig(m *meshconfig.MeshConfig) (inject.WebhookConfig, error) {
	dir, err := istioModuleDir()
	if err != nil {
		return inject.WebhookConfig{}, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifests", "charts", "istio-control", "istio-discovery", "files", "kube-gateway.yaml"))
	if err != nil {
		return inject.WebhookConfig{}, err
	}
	waypoint, err := os.ReadFile(filepath.Join(dir, "manifests", "charts", "istio-control", "istio-discovery", "files", "waypoint.yaml"))
	if err != nil {
		return inject.WebhookConfig{}, err
	}
	templates, err := inject.ParseTemplates(map[string]string{"kube-gateway": string(raw), waypointTemplate: string(waypoint)})
	if err != nil {
		return inject.WebhookConfig{}, err
	}
	values, err := inject.NewValuesConfig("global:\n  hub: docker.io/istio\n  tag: " + IstioVersion + "\n")
	if err != nil {
		return inject.WebhookConfig{}, err
	}
	return inject.WebhookConfig{Templates: templates, Values: values, MeshConfig: m}, nil
}

// proxyConfigStore holds the set's ProxyConfig resources: istiod resolves the gateway's ProxyConfig from them.
func proxyConfigStore(set *ObjectSet) model.ConfigStore {
	store := memory.Make(collections.PilotGatewayAPI())
	for _, o := range set.Istio {
		if o.Err == nil && o.Config.GroupVersionKind == gvk.ProxyConfig {
			_, _ = store.Create(*o.Config)
		}
	}
	return store
}

// appliedObjects catches the controller's server-side applies (the fake dynamic client cannot apply).
type appliedObjects struct {
	mu      sync.Mutex
	objects []map[string]any
}

func (a *appliedObjects) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.objects = nil
}

func (a *appliedObjects) react(action clienttesting.Action) (bool, runtime.Object, error) {
	patch, ok := action.(clienttesting.PatchAction)
	if !ok || action.GetSubresource() != "" {
		return true, nil, nil // the controller-version annotation on the Gateway's status: not part of the deployment
	}
	obj := map[string]any{}
	if err := json.Unmarshal(patch.GetPatch(), &obj); err != nil {
		return true, nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.objects = append(a.objects, obj)
	return true, nil, nil
}

func (a *appliedObjects) rendered(gw Document) (RenderedGateway, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := RenderedGateway{Gateway: gw.Ref(), Name: nameOf(gw.Object), Namespace: namespaceOf(gw.Object), Kinds: []string{}}
	for _, o := range a.objects {
		kind, _ := o["kind"].(string)
		r.Kinds = append(r.Kinds, kind)
		switch kind {
		case "Deployment":
			r.Deployment = &appsv1.Deployment{}
			if err := remarshal(o, r.Deployment); err != nil {
				return r, fmt.Errorf("%s: the rendered Deployment: %v", r.Gateway, err)
			}
		case "Service":
			r.Service = &corev1.Service{}
			if err := remarshal(o, r.Service); err != nil {
				return r, fmt.Errorf("%s: the rendered Service: %v", r.Gateway, err)
			}
			defaultServiceFields(r.Service)
		}
	}
	sort.Strings(r.Kinds)
	if r.Deployment == nil || r.Service == nil {
		// Rendering errors (an unsupported or illegal overlay, a missing ConfigMap) are only logged by istiod.
		return r, fmt.Errorf("%s: istiod's gateway deployment controller rendered no Deployment and Service (applied: %v); "+
			"check the parametersRef ConfigMap (only deployment, service, serviceAccount, horizontalPodAutoscaler and "+
			"podDisruptionBudget patches, no name changes) and spec.addresses (a Hostname address means a manual deployment)",
			r.Gateway, r.Kinds)
	}
	return r, nil
}

// proxySpec is the gateway pod the rendered Deployment runs: its labels, its istio-proxy env, and its ProxyConfig
// resolved the way pilot-agent resolves it (mesh defaults, then the PROXY_CONFIG env istiod rendered, then the
// pod's proxy.istio.io/config annotation).
func (r RenderedGateway) proxySpec(m *meshconfig.MeshConfig) (ProxySpec, error) {
	obj := map[string]any{}
	if err := remarshal(r.Deployment, &obj); err != nil {
		return ProxySpec{}, err
	}
	obj["kind"] = "Deployment"
	labels, annotations, env := podTemplate(obj)
	mc := m
	if v := env[proxyConfigEnv]; strings.TrimSpace(v) != "" {
		var err error
		if mc, err = mesh.ApplyProxyConfig(v, mc); err != nil {
			return ProxySpec{}, fmt.Errorf("%s: %s of the rendered Deployment: %v", r.Gateway, proxyConfigEnv, err)
		}
	}
	mc, err := mesh.ApplyProxyConfig(annotations[proxyConfigAnnotation], mc)
	if err != nil {
		return ProxySpec{}, fmt.Errorf("%s: %s on the rendered pod: %v", r.Gateway, proxyConfigAnnotation, err)
	}
	p := newProxySpec(r.Deployment.Name, r.Namespace, "Gateway API "+r.Gateway+" (automated deployment rendered by istiod)", labels, mc.DefaultConfig, true)
	p.StatusPortProxyProtocol = env["ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL"] == "true"
	p.env = env
	p.gatewayAPI = &r
	if isWaypointPod(r.Deployment) {
		p.Type = waypointType
	}
	return p, nil
}

// report is the Service and ProxyConfig part of the per-proxy JSON.
func (r RenderedGateway) report(pc *meshconfig.ProxyConfig) GatewayAPIReport {
	svc := r.Service
	out := GatewayAPIReport{Gateway: r.Gateway, Kinds: r.Kinds, Service: ServiceReport{
		Name: svc.Name, Type: string(svc.Spec.Type), ExternalTrafficPolicy: string(svc.Spec.ExternalTrafficPolicy),
		Annotations: svc.Annotations, Ports: []ServicePortReport{},
	}}
	if out.Service.Annotations == nil {
		out.Service.Annotations = map[string]string{}
	}
	if svc.Spec.IPFamilyPolicy != nil {
		out.Service.IPFamilyPolicy = string(*svc.Spec.IPFamilyPolicy)
	}
	for _, p := range svc.Spec.Ports {
		port := ServicePortReport{Name: p.Name, Port: p.Port}
		if p.AppProtocol != nil {
			port.AppProtocol = *p.AppProtocol
		}
		out.Service.Ports = append(out.Service.Ports, port)
	}
	out.Config = proxyConfigJSON(pc)
	return out
}

// proxyConfigJSON keeps the ProxyConfig fields that decide the client address: gatewayTopology and proxyMetadata.
func proxyConfigJSON(pc *meshconfig.ProxyConfig) json.RawMessage {
	full := map[string]any{}
	if js, err := protojson.Marshal(pc); err == nil {
		_ = json.Unmarshal(js, &full)
	}
	kept := map[string]any{}
	for _, k := range []string{"gatewayTopology", "proxyMetadata"} {
		if v, ok := full[k]; ok {
			kept[k] = v
		}
	}
	js, _ := json.Marshal(kept)
	return js
}

// gatewayAPIProxies renders the automated deployment of every Gateway API gateway of class istio in the set and
// returns the gateway pods it runs, and notes on the gateways deployed manually.
func gatewayAPIProxies(t test.Failer, set *ObjectSet, m *meshconfig.MeshConfig) ([]ProxySpec, []string, error) {
	rendered, manual, err := RenderGatewayDeployments(t, set, m)
	if err != nil {
		return nil, nil, err
	}
	var out []ProxySpec
	for _, r := range rendered {
		p, err := r.proxySpec(m)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, p)
	}
	return out, manual, nil
}

// defaultServiceFields does what the API server does to an applied Service before istiod's registry reads it:
// targetPort defaults to port, externalTrafficPolicy to Cluster on a LoadBalancer or NodePort Service.
func defaultServiceFields(svc *corev1.Service) {
	for i, p := range svc.Spec.Ports {
		if p.TargetPort.IntValue() == 0 && p.TargetPort.StrVal == "" {
			svc.Spec.Ports[i].TargetPort = intstr.FromInt32(p.Port)
		}
	}
	external := svc.Spec.Type == corev1.ServiceTypeLoadBalancer || svc.Spec.Type == corev1.ServiceTypeNodePort
	if external && svc.Spec.ExternalTrafficPolicy == "" {
		svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
}

// usesTCPGatewayAPI: the set has a TCPRoute or a Gateway API listener of protocol TCP.
func (s *ObjectSet) usesTCPGatewayAPI() bool {
	for _, d := range s.Docs {
		if groupOf(d.APIVersion()) != gatewayAPIGroup {
			continue
		}
		if d.Kind() == "TCPRoute" {
			return true
		}
		spec, _ := d.Object["spec"].(map[string]any)
		listeners, _ := spec["listeners"].([]any)
		for _, l := range listeners {
			if lm, _ := l.(map[string]any); lm["protocol"] == "TCP" {
				return true
			}
		}
	}
	return false
}
