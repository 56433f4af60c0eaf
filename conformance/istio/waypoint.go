package conformance

import (
	"encoding/json"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"istio.io/api/annotation"
	"istio.io/istio/pilot/pkg/config/kube/gatewaycommon"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/networking/core"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/test"

	typev1beta1 "istio.io/api/type/v1beta1"
)

/*
 * Istio's ambient mode (issue 26): waypoints are Envoy proxies istiod deploys for Gateway API Gateways of class
 * istio-waypoint and configures like any other proxy; ztunnel gets its authorization from the ambient index
 * (ztunnel.go). A set with a waypoint, an ambient Namespace or ambient pods runs istiod as the ambient profile does.
 */

const (
	// waypointType is the ProxySpec type of a waypoint: pilot-agent runs it as `proxy waypoint` (model.Waypoint).
	waypointType = "Waypoint"
	// waypointTemplate is the injection template istiod renders class istio-waypoint with (gatewaycommon.ClassInfo).
	waypointTemplate = "waypoint"
	// waypointInternalListener is the waypoint listener whose filter chains (one per Service port it serves, and
	// direct-http/direct-tcp for workload addresses) carry the HTTP connection managers and the RBAC filters
	// (pilot/pkg/networking/core/listener_waypoint.go buildWaypointInternal).
	waypointInternalListener = "main_internal"
	// hboneOriginateListener is the internal listener through which a proxy of an ambient cluster (PILOT_ENABLE_SENDING_HBONE)
	// tunnels to HBONE destinations; it takes no downstream connection (pilot/pkg/networking/core/waypoint.go).
	hboneOriginateListener = core.ConnectOriginate
	// ambientPodRange is where the fake cluster's ambient pods get their addresses (proxies use 10.10.0.0/16).
	ambientPodRange = "10.200.%d.%d"
	// clusterIPRange is where the API server's allocation is stood in for in ambient sets.
	clusterIPRange = "10.96.%d.%d"
)

// waypointGateways returns the set's Gateway API Gateways of class istio-waypoint.
func (s *ObjectSet) waypointGateways() []Document {
	var out []Document
	for _, d := range s.Docs {
		if d.Kind() != "Gateway" || groupOf(d.APIVersion()) != gatewayAPIGroup {
			continue
		}
		spec, _ := d.Object["spec"].(map[string]any)
		if class, _ := spec["gatewayClassName"].(string); class == constants.WaypointGatewayClassName {
			out = append(out, d)
		}
	}
	return out
}

// isWaypointPod: the rendered istio-proxy container runs `pilot-agent proxy waypoint`, which makes its node type
// model.Waypoint (manifests/charts/istio-control/istio-discovery/files/waypoint.yaml).
func isWaypointPod(d *appsv1.Deployment) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "istio-proxy" && len(c.Args) >= 2 && c.Args[0] == "proxy" && c.Args[1] == "waypoint" {
			return true
		}
	}
	return false
}

// usesAmbient: the set has a waypoint, an ambient Namespace or a pod template labelled for ambient.
func (s *ObjectSet) usesAmbient() bool {
	if len(s.waypointGateways()) > 0 || len(s.ambientNamespaces()) > 0 {
		return true
	}
	for _, d := range s.Docs {
		if podTemplateKinds[d.Kind()] {
			if labels, _, _ := podTemplate(d.Object); labels[dataplaneModeLabel] == constants.DataplaneModeAmbient {
				return true
			}
		}
	}
	return false
}

// enableAmbient runs istiod, for an ambient set, with what the ambient profile sets (PILOT_ENABLE_AMBIENT=true):
// the flags registerAmbient turns on with it (pilot/pkg/features/ambient.go), and the gateway classes the
// deployment controller knows, recomputed as its own deploymentcontroller_test.go recomputes them.
func enableAmbient(t test.Failer, set *ObjectSet) {
	if !set.usesAmbient() {
		return
	}
	test.SetForTest(t, &features.EnableAmbient, true)
	test.SetForTest(t, &features.EnableAmbientWaypoints, true)
	test.SetForTest(t, &features.EnableHBONESend, true)
	test.SetForTest(t, &features.EnableSidecarHBONEListening, true)
	test.SetForTest(t, &features.EnableIngressWaypointRouting, true)
	test.SetForTest(t, &gatewaycommon.ClassInfos, gatewaycommon.GetClassInfos())
	test.SetForTest(t, &gatewaycommon.BuiltinGatewayClasses, gatewaycommon.GetBuiltinGatewayClasses())
}

// ambientPod is one pod of an ambient workload in the fake cluster: the pod template's labels, the annotation
// istio-cni writes once it captures the pod, an address and the Ready condition the ambient index waits for.
func ambientPod(name, ns string, labels, annotations map[string]string, serviceAccount, ip string) *corev1.Pod {
	if serviceAccount == "" {
		serviceAccount = "default"
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, Annotations: annotations},
		Spec:       corev1.PodSpec{ServiceAccountName: serviceAccount, NodeName: "node-1"},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
}

// ambientObjects adds to an ambient set's fake cluster what a running cluster holds and the manifests do not:
// ClusterIPs on the Services (the API server allocates them), the waypoints' GatewayClass (istiod creates it) and
// status addresses (istiod writes them once the waypoint pod is ready: the ambient index ignores a waypoint
// without), one pod per ambient workload and per waypoint (at the address its fake proxy connects from), and the
// AuthorizationPolicies as Kubernetes objects (the ambient index reads them from the cluster, not the config store).
func ambientObjects(set *ObjectSet, objects []runtime.Object, proxies []ProxySpec) ([]runtime.Object, error) {
	if !set.usesAmbient() {
		return objects, nil
	}
	waypointServices := map[string]string{}
	for i, p := range proxies {
		if p.Type != waypointType {
			continue
		}
		waypointServices[p.gatewayAPI.Namespace+"/"+p.gatewayAPI.Name] = p.gatewayAPI.Service.Name
		sa := p.gatewayAPI.Deployment.Spec.Template.Spec.ServiceAccountName
		objects = append(objects, ambientPod(p.Name+"-0", p.Namespace, p.Labels, nil, sa, proxyIP(i)))
	}
	ips := 0
	for _, o := range objects {
		switch obj := o.(type) {
		case *corev1.Service:
			if obj.Spec.ClusterIP == "" && obj.Spec.Type != corev1.ServiceTypeExternalName {
				ips++
				obj.Spec.ClusterIP = fmt.Sprintf(clusterIPRange, ips/250, 10+ips%250)
				obj.Spec.ClusterIPs = []string{obj.Spec.ClusterIP}
			}
		case *gatewayv1.Gateway:
			if svc, ok := waypointServices[obj.Namespace+"/"+obj.Name]; ok {
				hostname := gatewayv1.HostnameAddressType
				obj.Status.Addresses = []gatewayv1.GatewayStatusAddress{{Type: &hostname, Value: fqdn(svc, obj.Namespace)}}
			}
		}
	}
	objects = append(objects, &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: constants.WaypointGatewayClassName},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: constants.ManagedGatewayMeshController},
	})
	ambient := set.ambientNamespaces()
	n := 0
	for _, d := range set.Docs {
		if d.Kind() == "AuthorizationPolicy" && isIstioGroup(d.APIVersion()) {
			obj, err := decodeNamespaced(d)
			if err != nil {
				return nil, err
			}
			objects = append(objects, obj)
		}
		if !podTemplateKinds[d.Kind()] {
			continue
		}
		labels, annotations, _ := podTemplate(d.Object)
		ns := namespaceOf(d.Object)
		mode := labels[dataplaneModeLabel]
		if mode == constants.DataplaneModeNone || labels[injectLabel] == "true" || !ambient[ns] && mode != constants.DataplaneModeAmbient {
			continue
		}
		n++
		annotations[annotation.AmbientRedirection.Name] = constants.AmbientRedirectionEnabled
		spec, _ := d.Object["spec"].(map[string]any)
		template, _ := spec["template"].(map[string]any)
		podSpec, _ := template["spec"].(map[string]any)
		if d.Kind() == "Pod" {
			podSpec = spec
		}
		sa, _ := podSpec["serviceAccountName"].(string)
		objects = append(objects, ambientPod(nameOf(d.Object), ns, labels, annotations, sa, fmt.Sprintf(ambientPodRange, n/250, 10+n%250)))
	}
	return objects, nil
}

// decodeNamespaced decodes a document into the typed object istiod's informers hold, in namespace default when it
// names none.
func decodeNamespaced(d Document) (runtime.Object, error) {
	obj := map[string]any{}
	if err := remarshal(d.Object, &obj); err != nil {
		return nil, err
	}
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["namespace"] = namespaceOf(d.Object)
	obj["metadata"] = meta
	js, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	o, _, err := kube.IstioCodec.UniversalDeserializer().Decode(js, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", d.Ref(), err)
	}
	return o, nil
}

// waypointServices returns the Services (namespace/name) the ambient index binds to a waypoint proxy.
func waypointServices(s *xds.FakeDiscoveryServer, p *model.Proxy) []string {
	if !p.IsWaypointProxy() {
		return nil
	}
	var out []string
	for _, info := range s.PushContext().ServicesForWaypoint(model.WaypointKeyForProxy(p)) {
		out = append(out, info.Service.GetNamespace()+"/"+info.Service.GetName())
	}
	slices.Sort(out)
	return out
}

// servedByWaypoint: a targetRefs entry of kind Service (core group) reaches the waypoint that serves that Service:
// istiod applies the policy on the Service's filter chains of the waypoint (model.WorkloadPolicyMatcher).
func servedByWaypoint(g Generated, ref *typev1beta1.PolicyTargetReference, ns string) bool {
	if g.Spec.Type != waypointType || ref.GetKind() != "Service" || ref.GetGroup() != "" && ref.GetGroup() != "core" {
		return false
	}
	return slices.Contains(g.WaypointServices, ns+"/"+ref.GetName())
}

// waypoints checks each waypoint's generated configuration: the internal listener that carries its HTTP
// connection managers and RBAC exists, and its HCMs neither use the remote address nor trust X-Forwarded-For hops,
// so remote.ip is the rightmost X-Forwarded-For entry, as the library's model of a waypoint says.
func (c *checker) waypoints(reports map[string]ProxyReport) {
	for _, g := range c.gens {
		if g.Spec.Type != waypointType {
			continue
		}
		found := false
		for _, l := range reports[proxyName(g)].Listeners {
			if l.Name != waypointInternalListener {
				continue
			}
			found = true
			for _, ch := range l.Chains {
				if ch.HCM != nil {
					c.check(!ch.HCM.UseRemoteAddress && ch.HCM.XffNumTrustedHops == 0 && len(ch.HCM.OriginalIPDetectionExtensions) == 0,
						"waypoint %s chain %s: HCM %+v, want use_remote_address false, no trusted hops and no detection extension", proxyName(g), ch.Name, *ch.HCM)
				}
			}
		}
		c.check(found, "waypoint %s has no %s listener", proxyName(g), waypointInternalListener)
	}
}
