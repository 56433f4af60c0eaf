package conformance

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// waypointProxy returns the report of the waypoint istiod rendered for the Gateway ns/name.
func waypointProxy(t *testing.T, res SetResult, gateway string) ProxyReport {
	t.Helper()
	for _, p := range res.Proxies {
		if p.Proxy.Type == waypointType && p.GatewayAPI != nil && p.GatewayAPI.Gateway == "Gateway "+gateway {
			return p
		}
	}
	t.Fatalf("no waypoint for Gateway %s among %d proxies", gateway, len(res.Proxies))
	return ProxyReport{}
}

// chainRules returns each chain of the waypoint's internal listener with its RBAC rules as "ACTION field cidr".
func chainRules(t *testing.T, p ProxyReport) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, l := range p.Listeners {
		if l.Name != waypointInternalListener {
			continue
		}
		for _, ch := range l.Chains {
			rules := []string{}
			for _, r := range ch.RBAC {
				rules = append(rules, r.Action+" "+r.Field+" "+maskedCIDR(r.CIDR))
			}
			slices.Sort(rules)
			out[ch.Name] = rules
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s/%s has no %s listener", p.Proxy.Namespace, p.Proxy.Name, waypointInternalListener)
	}
	return out
}

func TestAmbientWaypoint(t *testing.T) {
	// GIVEN an ambient namespace whose Services use a waypoint, with policies attached to the waypoint's Gateway
	// and to one Service
	// WHEN istiod renders and configures the waypoint
	res := runText(t, "ambient", readTestdata(t, "ambient"))
	if len(res.Failures) > 0 {
		t.Fatalf("want no failed check, got:\n%s", strings.Join(res.Failures, "\n"))
	}
	// THEN the waypoint is an Envoy of type waypoint with the labels istiod's waypoint template renders
	wp := waypointProxy(t, res, "web/waypoint")
	if wp.Proxy.Labels["gateway.istio.io/managed"] != "istio.io-mesh-controller" || wp.Proxy.Labels["gateway.networking.k8s.io/gateway-name"] != "waypoint" {
		t.Errorf("waypoint labels: %v", wp.Proxy.Labels)
	}
	chains := chainRules(t, wp)
	gatewayPolicy := []string{"ALLOW direct_remote_ip 10.244.0.0/16", "ALLOW remote_ip 198.51.100.0/24"}
	// AND the Gateway's policy is on every chain: the httpbin Service's and the direct (workload address) ones
	for _, name := range []string{"direct-http", "direct-tcp"} {
		if !slices.Equal(chains[name], gatewayPolicy) {
			t.Errorf("chain %s: want %v, got %v", name, gatewayPolicy, chains[name])
		}
	}
	// AND the Service's policy only on the Service's chain (port http: HTTP only)
	withService := append([]string{"DENY remote_ip 198.51.100.66/32"}, gatewayPolicy...)
	slices.Sort(withService)
	if name := "inbound-vip|8000|http|httpbin.web.svc.cluster.local"; !slices.Equal(chains[name], withService) {
		t.Errorf("chain %s: want %v, got %v (chains %v)", name, withService, chains[name], chains)
	}
	// AND no policy is left unexercised
	if len(res.Notes) > 0 {
		t.Errorf("want no notes, got %v", res.Notes)
	}
}

func TestAmbientZtunnel(t *testing.T) {
	// GIVEN the same set WHEN istiod's ambient index converts the policies for ztunnel
	res := runText(t, "ambient", readTestdata(t, "ambient"))
	z := res.Ztunnel
	if z == nil {
		t.Fatal("want ztunnel's authorization for an ambient set, got none")
	}
	// THEN the selector policy reaches the db pod with its ipBlocks and port, the namespace policy with its notIpBlocks
	allow, deny := z.policy("data", "db-allow-pods"), z.policy("data", "data-deny-outside")
	if allow == nil || deny == nil {
		t.Fatalf("want both data policies, got %+v", z.Policies)
	}
	if allow.Scope != "WORKLOAD_SELECTOR" || allow.Action != "ALLOW" || len(allow.Groups) != 1 || !slices.Equal(allow.Groups[0].SourceCidrs, []string{"10.244.0.0/16"}) ||
		!slices.Equal(allow.Groups[0].DestinationPorts, []uint32{5432}) || !slices.Equal(allow.Workloads, []string{"data/db"}) {
		t.Errorf("db-allow-pods: %+v", *allow)
	}
	if deny.Scope != "NAMESPACE" || len(deny.Groups) != 1 || !slices.Equal(deny.Groups[0].NotSourceCidrs, []string{"10.0.0.0/8"}) || !slices.Equal(deny.Workloads, []string{"data/db"}) {
		t.Errorf("data-deny-outside: %+v", *deny)
	}
	// AND the waypoint's policies are not ztunnel's (targetRefs), and both ambient pods are captured
	if z.policy("web", "waypoint-allow-clients") != nil || z.policy("web", "httpbin-deny-client") != nil {
		t.Errorf("want no ztunnel policy for targetRefs, got %+v", z.Policies)
	}
	var pods []string
	for _, w := range z.Workloads {
		pods = append(pods, w.Namespace+"/"+w.Name)
	}
	if !slices.Equal(pods, []string{"data/db", "web/httpbin"}) {
		t.Errorf("captured pods: %v", pods)
	}
	// AND ztunnel sends httpbin's Service through the waypoint, ingress traffic too, and db's Service directly
	var services []string
	for _, s := range z.Services {
		services = append(services, fmt.Sprintf("%s/%s waypoint=%q ingress=%v %v", s.Namespace, s.Name, s.Waypoint, s.IngressUseWaypoint, s.Workloads))
	}
	want := []string{`data/db waypoint="" ingress=false [data/db]`, `web/httpbin waypoint="web/waypoint" ingress=true [web/httpbin]`, `web/waypoint waypoint="" ingress=false []`}
	if !slices.Equal(services, want) {
		t.Errorf("services: want %v, got %v", want, services)
	}
}

func TestAmbientChecksCanFail(t *testing.T) {
	base := readTestdata(t, "ambient")
	run := func(t *testing.T, broken string) SetResult {
		t.Helper()
		if broken == base {
			t.Fatal("the edit changed nothing")
		}
		return runText(t, "ambient", broken)
	}

	t.Run("fails when a policy targets the waypoint from another namespace", func(t *testing.T) {
		// GIVEN the Gateway policy lives in namespace data and names the waypoint's namespace in its targetRef
		broken := replaceInDocument(base, "name: waypoint-allow-clients", "  namespace: web\nspec:", "  namespace: data\nspec:")
		broken = replaceInDocument(broken, "name: waypoint-allow-clients", "    name: waypoint\n", "    name: waypoint\n    namespace: web\n")
		res := run(t, broken)
		// THEN istiod ignores it (targetRefs attach within the policy's namespace), and its CIDR is not on the waypoint
		want := "AuthorizationPolicy data/waypoint-allow-clients: remote_ip 198.51.100.0/24 (negated false) is not an RBAC ALLOW principal on listener main_internal of web/waypoint"
		if !strings.Contains(strings.Join(res.Failures, "\n"), want) {
			t.Fatalf("want %q, got %v", want, res.Failures)
		}
	})

	t.Run("fails when a ztunnel policy matches remoteIpBlocks", func(t *testing.T) {
		// GIVEN the db policy matches remoteIpBlocks, an HTTP attribute ztunnel cannot see
		res := run(t, replaceInDocument(base, "name: db-allow-pods", "ipBlocks:", "remoteIpBlocks:"))
		// THEN istiod drops the rule from the ALLOW (it matches nothing), says so, and the set fails
		want := `AuthorizationPolicy data/db-allow-pods: ztunnel enforces it on [data/db] but cannot enforce all of it: istiod says "ztunnel does not support HTTP attributes (found: remoteIpBlocks)`
		if !strings.Contains(strings.Join(res.Failures, "\n"), want) {
			t.Fatalf("want %q, got %v", want, res.Failures)
		}
		if p := res.Ztunnel.policy("data", "db-allow-pods"); p == nil || len(p.Groups) != 0 {
			t.Errorf("want the ALLOW without rules, got %+v", p)
		}
	})

	t.Run("a ztunnel DENY on remoteIpBlocks denies every caller", func(t *testing.T) {
		// GIVEN the namespace DENY matches notRemoteIpBlocks
		res := run(t, replaceInDocument(base, "name: data-deny-outside", "notIpBlocks:", "notRemoteIpBlocks:"))
		// THEN istiod keeps the rule without its HTTP attribute: it matches any source, and the set fails
		p := res.Ztunnel.policy("data", "data-deny-outside")
		if p == nil || len(p.Groups) != 1 || !p.Groups[0].AnySource || !strings.Contains(p.Status, "more restrictive") {
			t.Fatalf("want a DENY of every caller with istiod's warning, got %+v", p)
		}
		if !strings.Contains(strings.Join(res.Failures, "\n"), "AuthorizationPolicy data/data-deny-outside: ztunnel enforces it on [data/db] but cannot enforce all of it") {
			t.Fatalf("want a ztunnel failure, got %v", res.Failures)
		}
	})

	t.Run("a Service that opts out of the waypoint takes its policy off the waypoint", func(t *testing.T) {
		// GIVEN httpbin's Service is labelled istio.io/use-waypoint: none
		res := run(t, replaceInDocument(base, "kind: Service\nmetadata:\n  name: httpbin", "  namespace: web\n", "  namespace: web\n  labels:\n    istio.io/use-waypoint: none\n"))
		// THEN the waypoint serves no Service, and the Service's policy reaches no proxy: a note says so
		for name := range chainRules(t, waypointProxy(t, res, "web/waypoint")) {
			if strings.Contains(name, "httpbin") {
				t.Errorf("want no httpbin chain, got %s", name)
			}
		}
		if !strings.Contains(strings.Join(res.Notes, "\n"), "AuthorizationPolicy web/httpbin-deny-client selects no proxy") {
			t.Fatalf("want a note on the Service's policy, got %v", res.Notes)
		}
	})
}
