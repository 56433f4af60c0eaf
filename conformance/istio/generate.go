package conformance

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/test"
)

// Generated is what istiod generated for one proxy.
type Generated struct {
	Spec      ProxySpec
	Proxy     *model.Proxy
	Listeners []*listenerv3.Listener
	Clusters  []*clusterv3.Cluster
	// Routes are the RDS route configurations istiod builds for the listeners' HCMs.
	Routes []*routev3.RouteConfiguration
	// WaypointServices are the Services (namespace/name) the ambient index binds to a waypoint.
	WaypointServices []string
}

// Generate starts a fake istiod (Istio's own FakeDiscoveryServer) with the set's Istio configs, Services and
// Namespaces, and builds the listeners and clusters of every proxy the way istiod builds them for a connected
// Envoy: the proxy's node metadata carries its labels, namespace, ProxyConfig and interception mode.
func Generate(t test.Failer, set *ObjectSet, m *meshconfig.MeshConfig, proxies []ProxySpec) ([]Generated, error) {
	objects, err := set.KubernetesObjects()
	if err != nil {
		return nil, err
	}
	// Gateway API gateways: istiod's gateway controller reads the Gateway API objects (and the Secrets and
	// ConfigMaps they name) from the cluster, and binds each Gateway to the proxies behind its rendered Service.
	gatewayAPI, _, err := set.GatewayAPIObjects()
	if err != nil {
		return nil, err
	}
	objects = append(objects, gatewayAPI...)
	for _, p := range proxies {
		if p.gatewayAPI != nil {
			objects = append(objects, p.gatewayAPI.Service.DeepCopy())
		}
	}
	if objects, err = ambientObjects(set, objects, proxies); err != nil {
		return nil, err
	}
	var configs []config.Config
	for _, o := range set.Istio {
		if o.Err == nil {
			configs = append(configs, *o.Config)
		}
	}
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{Configs: configs, KubernetesObjects: objects, MeshConfig: m, KubeClientModifier: annotateGatewayAPICRDs})
	waitForAmbientIndex(t, s.Env().AmbientIndexes, objects)
	out := make([]Generated, 0, len(proxies))
	for i, spec := range proxies {
		p := s.SetupProxy(nodeFor(spec, i))
		listeners := s.Listeners(p)
		// RoutesFromListeners builds the RDS routes the listeners name, as istiod's RDS generator does (BuildHTTPRoutes).
		out = append(out, Generated{Spec: spec, Proxy: p, Listeners: listeners, Clusters: s.Clusters(p), Routes: s.RoutesFromListeners(p, listeners), WaypointServices: waypointServices(s, p)})
	}
	set.ztunnel = ztunnelAuthorization(set.Name, s.Env().AmbientIndexes, m.GetRootNamespace())
	return out, nil
}

func nodeFor(spec ProxySpec, i int) *model.Proxy {
	nodeType := model.SidecarProxy
	if spec.Type == "Router" {
		nodeType = model.Router
	}
	if spec.Type == waypointType {
		nodeType = model.Waypoint
	}
	pc := proto.Clone(spec.ProxyConfig).(*meshconfig.ProxyConfig)
	meta := &model.NodeMetadata{
		Namespace:    spec.Namespace,
		Labels:       spec.Labels,
		ClusterID:    constants.DefaultClusterName,
		IstioVersion: IstioVersion,
		ProxyConfig:  (*model.NodeMetaProxyConfig)(pc),
	}
	if spec.InterceptionMode != "" {
		meta.InterceptionMode = model.TrafficInterceptionMode(spec.InterceptionMode)
	}
	return &model.Proxy{
		Type:            nodeType,
		ID:              fmt.Sprintf("%s-%d.%s", spec.Name, i, spec.Namespace),
		IPAddresses:     []string{proxyIP(i)},
		ConfigNamespace: spec.Namespace,
		Labels:          spec.Labels,
		Metadata:        meta,
	}
}

// proxyIP is the address the i-th fake proxy connects from (an ambient set's waypoint pods have it too).
func proxyIP(i int) string {
	return fmt.Sprintf("10.%d.%d.%d", 10+i/65536, (i/256)%256, 10+i%240)
}

// Report reduces a generated proxy to its client-address settings.
func (g Generated) Report(set string) (ProxyReport, error) {
	r := ProxyReport{Set: set, Proxy: g.Spec, Listeners: []ListenerReport{}, Clusters: []ClusterReport{}, Routes: []RouteReport{}}
	if g.Spec.gatewayAPI != nil {
		ga := g.Spec.gatewayAPI.report(g.Spec.ProxyConfig)
		r.GatewayAPI = &ga
	}
	for _, l := range g.Listeners {
		lr, err := ReportListener(l)
		if err != nil {
			return r, err
		}
		if lr.Name == hboneOriginateListener && g.Spec.Type == "Router" {
			continue // the HBONE client side of an ambient cluster's gateways: it accepts no downstream connection
		}
		if g.Spec.Type == "Router" || g.Spec.Type == waypointType || lr.Name == virtualInboundName || lr.ProxyProtocol != nil || lr.OriginalSrc {
			r.Listeners = append(r.Listeners, lr)
		}
	}
	sortListeners(r.Listeners)
	r.Routes = reportRoutes(g.Routes)
	stray, err := strayRateLimits(g.Listeners, r.Listeners)
	if err != nil {
		return r, err
	}
	r.StrayRateLimits = stray
	for _, c := range g.Clusters {
		v, err := ReportCluster(c)
		if err != nil {
			return r, err
		}
		if v != "" {
			r.Clusters = append(r.Clusters, ClusterReport{Name: c.GetName(), UpstreamProxyProtocol: v})
		}
	}
	return r, nil
}
