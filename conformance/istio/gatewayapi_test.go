package conformance

import (
	"strings"
	"testing"
)

// gatewayAPIProxy returns the report of the gateway pod istiod rendered for the Gateway API Gateway ns/name.
func gatewayAPIProxy(t *testing.T, res SetResult, gateway string) ProxyReport {
	t.Helper()
	for _, p := range res.Proxies {
		if p.GatewayAPI != nil && p.GatewayAPI.Gateway == "Gateway "+gateway {
			return p
		}
	}
	t.Fatalf("no automated deployment for Gateway %s among %d proxies", gateway, len(res.Proxies))
	return ProxyReport{}
}

func listenerOn(t *testing.T, p ProxyReport, port uint32) ListenerReport {
	t.Helper()
	for _, l := range p.Listeners {
		if l.Port == port {
			return l
		}
	}
	t.Fatalf("%s/%s has no listener on port %d", p.Proxy.Namespace, p.Proxy.Name, port)
	return ListenerReport{}
}

func rbacCIDRs(l ListenerReport) []string {
	var out []string
	for _, r := range listenerRules(l) {
		out = append(out, r.Action+" "+r.Field+" "+r.CIDR)
	}
	return out
}

func TestGatewayAPIRenderedService(t *testing.T) {
	// GIVEN Gateway API gateways whose parametersRef ConfigMaps patch the Service to Local
	// WHEN istiod's deployment controller renders them
	res := runText(t, "gateway-api", readTestdata(t, "gateway-api"))
	if len(res.Failures) > 0 {
		t.Fatalf("want no failed check, got:\n%s", strings.Join(res.Failures, "\n"))
	}
	// THEN each gets a LoadBalancer Service named <gateway>-istio, Local, PreferDualStack, one port per listener
	web := gatewayAPIProxy(t, res, "ingress/web")
	svc := web.GatewayAPI.Service
	if svc.Name != "web-istio" || svc.Type != "LoadBalancer" || svc.ExternalTrafficPolicy != "Local" || svc.IPFamilyPolicy != "PreferDualStack" {
		t.Errorf("web Service: %+v", svc)
	}
	var ports []string
	for _, p := range svc.Ports {
		ports = append(ports, p.Name+":"+p.AppProtocol)
	}
	if strings.Join(ports, ",") != "status-port:tcp,http:http,https:https" {
		t.Errorf("web Service ports: %v", ports)
	}
	// AND the pod runs istiod's gateway template, not an injected sidecar
	if web.Proxy.Type != "Router" || web.Proxy.Labels["gateway.networking.k8s.io/gateway-name"] != "web" || web.Proxy.Labels["sidecar.istio.io/inject"] != "false" {
		t.Errorf("web proxy: %+v", web.Proxy)
	}
	tcp := gatewayAPIProxy(t, res, "ingress/tcp")
	if tcp.GatewayAPI.Service.ExternalTrafficPolicy != "Local" {
		t.Errorf("tcp Service: %+v", tcp.GatewayAPI.Service)
	}
	// AND a Gateway without parametersRef keeps Kubernetes' default, which hides the client behind a node
	if db := gatewayAPIProxy(t, res, "ingress/db").GatewayAPI.Service; db.ExternalTrafficPolicy != "Cluster" || db.Type != "LoadBalancer" {
		t.Errorf("db Service: %+v", db)
	}
}

func TestGatewayAPIListeners(t *testing.T) {
	// GIVEN the same set WHEN istiod generates the gateway pods' listeners
	res := runText(t, "gateway-api", readTestdata(t, "gateway-api"))
	web := gatewayAPIProxy(t, res, "ingress/web")
	// THEN HTTP and HTTPS listen on the listener ports, trust 2 hops from spec.infrastructure.annotations and use the remote address
	if web.Proxy.NumTrustedProxies != 2 || string(web.GatewayAPI.Config) != `{"gatewayTopology":{"numTrustedProxies":2}}` {
		t.Errorf("web ProxyConfig: %d %s", web.Proxy.NumTrustedProxies, web.GatewayAPI.Config)
	}
	for _, port := range []uint32{80, 443} {
		l := listenerOn(t, web, port)
		if l.ProxyProtocol != nil {
			t.Errorf("web listener %d: want no PROXY, got %+v", port, l.ProxyProtocol)
		}
		for _, ch := range l.Chains {
			if ch.HCM == nil || !ch.HCM.UseRemoteAddress || ch.HCM.XffNumTrustedHops != 2 {
				t.Errorf("web listener %d chain %s: HCM %+v", port, ch.Name, ch.HCM)
			}
		}
		// AND the ALLOW with targetRefs is an RBAC remote_ip principal there
		if got := strings.Join(rbacCIDRs(l), ","); got != "ALLOW remote_ip 198.51.100.0/24" {
			t.Errorf("web listener %d RBAC: %s", port, got)
		}
	}
	tcp := gatewayAPIProxy(t, res, "ingress/tcp")
	// AND the TCP gateway requires PROXY (gatewayTopology in the Gateway's annotations) and denies on direct_remote_ip
	l := listenerOn(t, tcp, 9000)
	if l.ProxyProtocol == nil || l.ProxyProtocol.AllowRequestsWithoutProxyProtocol {
		t.Errorf("tcp listener 9000: want strict PROXY, got %+v", l.ProxyProtocol)
	}
	if got := strings.Join(rbacCIDRs(l), ","); got != "DENY direct_remote_ip 203.0.113.0/24" {
		t.Errorf("tcp listener 9000 RBAC: %s", got)
	}
	// AND a TLSRoute (v1, whose CRD istiod takes only from Gateway API v1.5 on) binds the passthrough listener
	db := listenerOn(t, gatewayAPIProxy(t, res, "ingress/db"), 5432)
	if len(db.Chains) == 0 || db.Chains[0].HCM != nil || db.ProxyProtocol != nil {
		t.Errorf("db listener 5432: %+v", db)
	}
	// AND the ProxyConfig resource's env reaches the pod, so health checks accept PROXY and plain requests
	if !tcp.Proxy.StatusPortProxyProtocol || tcp.StatusPort == nil || tcp.StatusPort.ProxyProtocol == nil || !tcp.StatusPort.ProxyProtocol.AllowRequestsWithoutProxyProtocol {
		t.Errorf("tcp status port: env %v, %+v", tcp.Proxy.StatusPortProxyProtocol, tcp.StatusPort)
	}
}

// replaceInDocument replaces old by new in the documents of the set that contain marker.
func replaceInDocument(yaml, marker, old, new string) string {
	docs := strings.Split(yaml, "\n---\n")
	for i, doc := range docs {
		if strings.Contains(doc, marker) {
			docs[i] = strings.Replace(doc, old, new, 1)
		}
	}
	return strings.Join(docs, "\n---\n")
}

func TestGatewayAPIChecksCanFail(t *testing.T) {
	base := readTestdata(t, "gateway-api")
	run := func(t *testing.T, broken string) SetResult {
		t.Helper()
		if broken == base {
			t.Fatal("the mutation did not change the set")
		}
		return runText(t, "gateway-api", broken)
	}

	t.Run("a ConfigMap without the service patch gives Cluster", func(t *testing.T) {
		// GIVEN the web gateway's ConfigMap patches only the Deployment
		res := run(t, replaceInDocument(base, "name: web-options", "  service: |\n    spec:\n      externalTrafficPolicy: Local", "  deployment: |\n    spec:\n      replicas: 2"))
		// THEN the rendered Service keeps Kubernetes' default, which hides the client behind a node
		if got := gatewayAPIProxy(t, res, "ingress/web").GatewayAPI.Service.ExternalTrafficPolicy; got != "Cluster" {
			t.Fatalf("want Cluster, got %q", got)
		}
	})

	t.Run("metadata annotations are ignored when spec.infrastructure.annotations is set", func(t *testing.T) {
		// GIVEN the hop count moved to the Gateway's metadata while spec.infrastructure.annotations stays (without it)
		broken := replaceInDocument(base, "name: web\n  namespace: ingress\nspec:\n  gatewayClassName", "  infrastructure:\n    annotations:\n      proxy.istio.io/config: '{\"gatewayTopology\":{\"numTrustedProxies\":2}}'",
			"  infrastructure:\n    annotations:\n      example.com/owner: web-team")
		broken = replaceInDocument(broken, "name: web\n  namespace: ingress\nspec:\n  gatewayClassName", "  namespace: ingress\n", "  namespace: ingress\n  annotations:\n    proxy.istio.io/config: '{\"gatewayTopology\":{\"numTrustedProxies\":2}}'\n")
		res := run(t, broken)
		// THEN the pod trusts no hop: the listeners take the peer as the client
		web := gatewayAPIProxy(t, res, "ingress/web")
		if web.Proxy.NumTrustedProxies != 0 || listenerOn(t, web, 80).Chains[0].HCM.XffNumTrustedHops != 0 {
			t.Fatalf("want 0 trusted hops, got %d", web.Proxy.NumTrustedProxies)
		}
	})

	t.Run("a policy whose targetRefs names another gateway reaches no listener", func(t *testing.T) {
		// GIVEN the ALLOW targets a Gateway that is not in the set
		res := run(t, replaceInDocument(base, "name: web-allow", "    name: web\n", "    name: website\n"))
		// THEN its CIDR reaches no listener, and the set says the policy selects no proxy
		for _, l := range gatewayAPIProxy(t, res, "ingress/web").Listeners {
			if len(rbacCIDRs(l)) > 0 {
				t.Errorf("listener %s: want no RBAC, got %v", l.Name, rbacCIDRs(l))
			}
		}
		if !strings.Contains(strings.Join(res.Notes, "\n"), "AuthorizationPolicy ingress/web-allow selects no proxy") {
			t.Fatalf("want a note that the policy selects no proxy, got %v", res.Notes)
		}
	})

	t.Run("fails when the ConfigMap renames the Deployment", func(t *testing.T) {
		// GIVEN a deployment patch that changes metadata istiod owns
		res := run(t, replaceInDocument(base, "name: web-options", "  service: |", "  deployment: |\n    metadata:\n      name: other\n  service: |"))
		// THEN istiod renders nothing for the Gateway, and the set fails
		if !strings.Contains(strings.Join(res.Failures, "\n"), "Gateway ingress/web: istiod's gateway deployment controller rendered no Deployment and Service") {
			t.Fatalf("want a rendering failure, got %v", res.Failures)
		}
	})

	t.Run("fails when the hop count is not a number", func(t *testing.T) {
		// GIVEN spec.infrastructure.annotations carries a ProxyConfig pilot-agent cannot read
		res := run(t, strings.Replace(base, `"numTrustedProxies":2`, `"numTrustedProxies":"two"`, 1))
		// THEN the set fails, naming the annotation
		if !strings.Contains(strings.Join(res.Failures, "\n"), "proxy.istio.io/config on the rendered pod") {
			t.Fatalf("want a ProxyConfig failure, got %v", res.Failures)
		}
	})

	t.Run("a Gateway with a Hostname address is deployed manually: istiod renders nothing for it", func(t *testing.T) {
		// GIVEN the db Gateway names its own Service (the 1.24-1.25 path)
		res := run(t, replaceInDocument(base, "name: db\n  namespace: ingress\nspec:\n  gatewayClassName", "  gatewayClassName: istio\n",
			"  gatewayClassName: istio\n  addresses:\n  - type: Hostname\n    value: db-gateway.ingress.svc.cluster.local\n"))
		// THEN no automated deployment is rendered for it, and the set says so
		for _, p := range res.Proxies {
			if p.GatewayAPI != nil && p.GatewayAPI.Gateway == "Gateway ingress/db" {
				t.Fatalf("want no automated deployment for ingress/db, got %s", p.Proxy.Name)
			}
		}
		if !strings.Contains(strings.Join(res.Notes, "\n"), "Gateway ingress/db is deployed manually") {
			t.Fatalf("want a note on the manual deployment, got %v", res.Notes)
		}
	})

	t.Run("fails when the TCPRoute binds to another gateway", func(t *testing.T) {
		// GIVEN the TCPRoute's parentRef names a Gateway that is not in the set
		// THEN the TCP gateway has no listener at all, and the set fails
		res := run(t, replaceInDocument(base, "kind: TCPRoute", "  - name: tcp\n", "  - name: tcp-other\n"))
		if !strings.Contains(strings.Join(res.Failures, "\n"), "gateway ingress/tcp-istio has no listener") {
			t.Fatalf("want a missing-listener failure, got %v", res.Failures)
		}
	})
}
