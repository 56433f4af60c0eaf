package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A mutation is one semantic edit of a set's synthesised YAML, the way a bug in the library would change it. Applied
// to a copy of the set in memory (its expectations.json stays the trace's), the stage must fail: the Go checks or the
// comparison with the trace's expectations.
type mutation struct {
	name string
	set  string
	// kind and name pick the documents edited: a kind and a substring of metadata.name ("" for any name).
	kind, object string
	// edit replaces old with new in each picked document's JSON (new "" with drop: the document is removed).
	old, new string
	drop     bool
}

// Strings as they appear in a document's JSON (json.Marshal of the decoded YAML: keys sorted, quotes escaped inside
// annotation values).
const (
	hops2            = `numTrustedProxies\":2`
	statusPortEnv    = `{"name":"ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL","value":"true"}`
	statusPortNotSet = `{"name":"ENVOY_STATUS_PORT","value":"15021"}`
)

var mutations = []mutation{
	{name: "gateway numTrustedProxies 2 -> 1", set: "example-ns-http-two-trusted-proxies", kind: "Deployment", old: hops2, new: `numTrustedProxies\":1`},
	{name: "gateway numTrustedProxies 2 -> 5", set: "example-ns-http-two-trusted-proxies", kind: "Deployment", old: hops2, new: `numTrustedProxies\":5`},
	{name: "gateway numTrustedProxies 1 -> 2", set: "example-ns-http-one-trusted-proxy", kind: "Deployment", old: `numTrustedProxies\":1`, new: hops2},
	{name: "gateway numTrustedProxies 2 -> 1 (whole app)", set: "example-app", kind: "Deployment", object: "ew-gateway", old: hops2, new: `numTrustedProxies\":1`},
	{name: "Gateway API infrastructure numTrustedProxies 2 -> 1", set: "example-gwapi-http-two-trusted-proxies", kind: "Gateway", old: hops2, new: `numTrustedProxies\":1`},
	{name: "externalTrafficPolicy Local -> Cluster (classic Service)", set: "example-ns-http-etp-local", kind: "Service", old: `"externalTrafficPolicy":"Local"`, new: `"externalTrafficPolicy":"Cluster"`},
	{name: "externalTrafficPolicy Local -> Cluster (HTTPS gateway Service)", set: "example-ns-https-etp-local", kind: "Service", old: `"externalTrafficPolicy":"Local"`, new: `"externalTrafficPolicy":"Cluster"`},
	{name: "externalTrafficPolicy Local -> Cluster (Gateway API parametersRef ConfigMap)", set: "example-gwapi-http-etp-local", kind: "ConfigMap", old: `\"externalTrafficPolicy\": \"Local\"`, new: `\"externalTrafficPolicy\": \"Cluster\"`},
	{name: "TPROXY annotation dropped (ew-httpbin-tproxy)", set: "example-ew-httpbin-tproxy", kind: "Deployment", old: `"sidecar.istio.io/interceptionMode":"TPROXY"`, new: `"x-dropped":"TPROXY"`},
	{name: "TPROXY annotation dropped (policy-sidecar-tproxy)", set: "example-policy-sidecar-tproxy", kind: "Deployment", object: "echo-server", old: `"sidecar.istio.io/interceptionMode":"TPROXY"`, new: `"x-dropped":"TPROXY"`},
	{name: "REDIRECT -> TPROXY", set: "example-ew-httpbin-redirect", kind: "Deployment", old: `"sidecar.istio.io/interceptionMode":"REDIRECT"`, new: `"sidecar.istio.io/interceptionMode":"TPROXY"`},
	{name: "XFF filter use_remote_address true -> false", set: "example-ew-xff-httpbin-use-remote-address", kind: "EnvoyFilter", old: `"use_remote_address":true`, new: `"use_remote_address":false`},
	{name: "XFF filter portNumber 8000 -> 8001", set: "example-ew-xff-httpbin-use-remote-address", kind: "EnvoyFilter", old: `"portNumber":8000`, new: `"portNumber":8001`},
	{name: "XFF filter selector matches nothing", set: "example-ew-xff-httpbin-use-remote-address", kind: "EnvoyFilter", old: `"workloadSelector":{"labels":{"app":"httpbin"`, new: `"workloadSelector":{"labels":{"app":"nothing"`},
	{name: "XFF filter context matches nothing (SIDECAR_INBOUND -> GATEWAY)", set: "example-ew-xff-httpbin-trusted-cidrs", kind: "EnvoyFilter", old: `"context":"SIDECAR_INBOUND"`, new: `"context":"GATEWAY"`},
	{name: "XFF trusted CIDR changed", set: "example-ew-xff-httpbin-trusted-cidrs", kind: "EnvoyFilter", old: `"address_prefix":"172.17.0.0"`, new: `"address_prefix":"172.18.0.0"`},
	{name: "XFF trusted CIDR with host bits", set: "example-ns-cdn-trusted-cidrs", kind: "EnvoyFilter", old: `"address_prefix":"10.244.0.0"`, new: `"address_prefix":"10.244.0.1"`},
	{name: "sidecar XFF hops 2 -> 1", set: "example-policy-sidecar-tproxy", kind: "EnvoyFilter", old: `"xff_num_trusted_hops":2`, new: `"xff_num_trusted_hops":1`},
	{name: "XFF filter use_remote_address true -> false (whole app)", set: "example-app", kind: "EnvoyFilter", object: "use-remote-address", old: `"use_remote_address":true`, new: `"use_remote_address":false`},
	{name: "XFF trusted CIDR changed (whole app)", set: "example-app", kind: "EnvoyFilter", object: "ns-cdn-trusted-cidrs", old: `"address_prefix":"198.51.100.0"`, new: `"address_prefix":"198.51.101.0"`},
	{name: "custom header name changed", set: "example-ns-cdn-client-header", kind: "EnvoyFilter", old: `"header_name":"cf-connecting-ip"`, new: `"header_name":"x-real-ip"`},
	{name: "custom header filter removed", set: "example-ns-cdn-client-header", kind: "EnvoyFilter", object: "", drop: true},
	{name: "policy DENY -> ALLOW", set: "example-policy-block-source-ip", kind: "AuthorizationPolicy", old: `"action":"DENY"`, new: `"action":"ALLOW"`},
	{name: "policy ALLOW -> DENY", set: "example-policy-office-allow-list", kind: "AuthorizationPolicy", object: "allowfrom", old: `"action":"ALLOW"`, new: `"action":"DENY"`},
	{name: "policy ipBlocks -> remoteIpBlocks", set: "example-policy-office-allow-list", kind: "AuthorizationPolicy", object: "allowfrom", old: `"ipBlocks"`, new: `"remoteIpBlocks"`},
	{name: "policy remoteIpBlocks -> ipBlocks", set: "scenario-gateway-trusted-hops-policies", kind: "AuthorizationPolicy", object: "allowfrom", old: `"remoteIpBlocks"`, new: `"ipBlocks"`},
	{name: "policy notRemoteIpBlocks -> remoteIpBlocks", set: "scenario-gateway-trusted-hops-policies", kind: "AuthorizationPolicy", object: "deny-outside", old: `"notRemoteIpBlocks"`, new: `"remoteIpBlocks"`},
	{name: "policy CIDR changed", set: "example-policy-ultimate-client-ip", kind: "AuthorizationPolicy", old: `123.120.234.0/24`, new: `123.120.235.0/24`},
	{name: "policy CIDR with host bits", set: "scenario-sidecar-redirect-policies", kind: "AuthorizationPolicy", object: "allowfrom", old: `10.32.0.0/14`, new: `10.32.0.1/14`},
	{name: "policy CIDR dropped from a list", set: "example-policy-office-allow-list", kind: "AuthorizationPolicy", object: "allowfrom", old: `"203.0.113.0/24",`, new: ``},
	{name: "policy to.ports 8000 -> 9090", set: "scenario-xff-trusted-cidrs-one-port-tproxy", kind: "AuthorizationPolicy", object: "denyfrom", old: `"ports":["8000"]`, new: `"ports":["9090"]`},
	{name: "policy selector matches nothing", set: "example-policy-sidecar-tproxy", kind: "AuthorizationPolicy", object: "denyfrom", old: `"matchLabels":{"app":"echo-server"}`, new: `"matchLabels":{"app":"nothing"}`},
	{name: "policy targetRefs names another Gateway", set: "example-gwapi-allow-deny-by-client-ip", kind: "AuthorizationPolicy", object: "allowfrom", old: `"name":"ingressgateway"`, new: `"name":"other"`},
	{name: "Istio Gateway selector matches no pod", set: "example-ns-http-etp-local", kind: "Gateway", old: `"selector":{"app":"ingressgateway","istio":"ingressgateway"}`, new: `"selector":{"app":"nothing","istio":"nothing"}`},
	{name: "PROXY listener filter removed (optional)", set: "example-tcp-proxy-protocol-optional", kind: "EnvoyFilter", drop: true},
	{name: "PROXY optional -> strict", set: "example-tcp-proxy-protocol-optional", kind: "EnvoyFilter", old: `"allow_requests_without_proxy_protocol":true`, new: `"allow_requests_without_proxy_protocol":false`},
	{name: "PROXY per-port filter on another port", set: "example-tls-passthrough-proxy-protocol-per-port", kind: "EnvoyFilter", old: `"portNumber":8443`, new: `"portNumber":9443`},
	{name: "gatewayTopology.proxyProtocol removed", set: "example-tcp-proxy-protocol-strict", kind: "Deployment", old: `,\"proxyProtocol\":{}`, new: ``},
	{name: "status-port PROXY env removed", set: "example-tcp-proxy-protocol-strict", kind: "Deployment", old: statusPortEnv, new: statusPortNotSet},
	{name: "PROXY and status-port env removed together", set: "example-policy-tcp-proxy-protocol", kind: "Deployment", old: `,\"proxyProtocol\":{}`, new: ``},
	{name: "PROXY to backend: DestinationRule removed", set: "scenario-proxy-protocol-to-backend-both-sides", kind: "DestinationRule", drop: true},
	{name: "mesh-wide XFF filter moved out of the root namespace", set: "scenario-xff-mesh-wide", kind: "EnvoyFilter", old: `"namespace":"istio-system"`, new: `"namespace":"shop"`},
	// Per-client rate limits (issue 27): on the expected hop only, with the trace's buckets.
	{name: "sidecar rate limit selects another workload", set: "scenario-rate-limit-gateway-and-sidecar", kind: "EnvoyFilter", object: "rate-limit", old: `"workloadSelector":{"labels":{"app":"echo"}}`, new: `"workloadSelector":{"labels":{"app":"orders"}}`},
	{name: "rate limit HTTP_FILTER patch applies to no listener", set: "example-client-ip-usage", kind: "EnvoyFilter", object: "rate-limit", old: `"listener":{"filterChain"`, new: `"listener":{"portNumber":9,"filterChain"`},
	{name: "rate limit VIRTUAL_HOST patch applies to no virtual host", set: "example-client-ip-usage", kind: "EnvoyFilter", object: "rate-limit", old: `"applyTo":"VIRTUAL_HOST","match":{"context":"GATEWAY"}`, new: `"applyTo":"VIRTUAL_HOST","match":{"context":"GATEWAY","routeConfiguration":{"vhost":{"name":"nothing:80"}}}`},
	{name: "rate limit max_dynamic_descriptors 10000 -> 20", set: "example-client-ip-usage", kind: "EnvoyFilter", object: "rate-limit", old: `"max_dynamic_descriptors":10000`, new: `"max_dynamic_descriptors":20`},
	{name: "rate limit descriptor keyed on X-Forwarded-For", set: "scenario-rate-limit-gateway-and-sidecar", kind: "EnvoyFilter", object: "ingressgateway-rate-limit", old: `{"key":"remote_address"}`, new: `{"key":"x-forwarded-for"}`},
	// The client-address header: written by the expected hop only, from the client address, over any incoming copy.
	{name: "client-address header VirtualService set -> add", set: "example-ns-client-header-gateway", kind: "VirtualService", old: `"request":{"set":{"x-real-ip"`, new: `"request":{"add":{"x-real-ip"`},
	{name: "client-address header from X-Forwarded-For", set: "example-ns-client-header-gateway", kind: "VirtualService", old: `"x-real-ip":"%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"`, new: `"x-real-ip":"%REQ(X-FORWARDED-FOR)%"`},
	{name: "sidecar client-address header on outbound routes", set: "example-ns-client-header-sidecar", kind: "EnvoyFilter", object: "clientaddressheader", old: `"context":"SIDECAR_INBOUND"`, new: `"context":"SIDECAR_OUTBOUND"`},
	// Waypoint attachment (issue 26, ambient): the policies must reach the waypoint istiod generates. (What a waypoint's
	// RBAC holds is compared with the trace by test/conformance/ambient.test.ts, a jest step of the stage, not here.)
	{name: "waypoint policy targetRefs names another Gateway", set: "example-ambient-waypoint", kind: "AuthorizationPolicy", object: "allowfrom", old: `"name":"waypoint"`, new: `"name":"other-waypoint"`},
	{name: "waypoint Gateway removed", set: "example-ambient-waypoint", kind: "Gateway", drop: true},
}

// The mutation "PROXY and status-port env removed together" edits two strings of one document.
var secondEdit = map[string][2]string{"PROXY and status-port env removed together": {statusPortEnv, statusPortNotSet}}

// TestMutations applies every mutation to a copy of its set and requires the stage to fail on it. Runs when
// CONFORMANCE_MUTATIONS=1 (.ci/conformance.sh sets it for the 1.31 pin) over CONFORMANCE_FIXTURES, and writes
// "mutations: K/N caught" to CONFORMANCE_OUT/mutations.txt.
func TestMutations(t *testing.T) {
	if os.Getenv("CONFORMANCE_MUTATIONS") != "1" {
		t.Skip("SKIPPED: CONFORMANCE_MUTATIONS is not 1 (.ci/conformance.sh runs the mutations on the 1.31 pin)")
	}
	root := envOr("CONFORMANCE_FIXTURES", "../out/fixtures")
	out := envOr("CONFORMANCE_OUT", "../out/istio")
	caught := 0
	var lines []string
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			set, err := LoadObjectSet(filepath.Join(root, m.set))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.apply(set); err != nil {
				t.Errorf("mutation not applied (so not caught): %v", err)
				lines = append(lines, fmt.Sprintf("NOT APPLIED %s (%s): %v", m.name, m.set, err))
				return
			}
			res := Run(t, set)
			if len(res.Failures) == 0 {
				t.Errorf("NOT CAUGHT: %s on %s: the stage passes the edited set", m.name, m.set)
				lines = append(lines, fmt.Sprintf("NOT CAUGHT %s (%s)", m.name, m.set))
				return
			}
			caught++
			t.Logf("caught by %d failures, first: %s", len(res.Failures), res.Failures[0])
			lines = append(lines, fmt.Sprintf("caught %s (%s): %s", m.name, m.set, res.Failures[0]))
		})
	}
	summary := fmt.Sprintf("mutations: %d/%d caught", caught, len(mutations))
	t.Log(summary)
	fmt.Println(summary)
	if err := os.MkdirAll(out, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(out, "mutations.txt"), []byte(strings.Join(append(lines, summary), "\n")+"\n"), 0o644)
	}
	if len(mutations) < 30 {
		t.Errorf("%d mutations, the suite needs at least 30", len(mutations))
	}
}

// apply edits the set's documents in memory and converts its Istio objects again.
func (m mutation) apply(set *ObjectSet) error {
	edited := 0
	var docs []Document
	for _, d := range set.Docs {
		if d.Kind() != m.kind || !strings.Contains(nameOf(d.Object), m.object) {
			docs = append(docs, d)
			continue
		}
		if m.drop {
			edited++
			continue
		}
		js, err := json.Marshal(d.Object)
		if err != nil {
			return err
		}
		text := string(js)
		if !strings.Contains(text, m.old) {
			docs = append(docs, d)
			continue
		}
		text = strings.ReplaceAll(text, m.old, m.new)
		if second, ok := secondEdit[m.name]; ok {
			if !strings.Contains(text, second[0]) {
				return fmt.Errorf("%s has no %s", d.Ref(), second[0])
			}
			text = strings.ReplaceAll(text, second[0], second[1])
		}
		obj := map[string]any{}
		if err := json.Unmarshal([]byte(text), &obj); err != nil {
			return err
		}
		docs = append(docs, Document{Source: d.Source, Object: obj})
		edited++
	}
	if edited == 0 {
		return fmt.Errorf("no %s named *%s* in %s contains %s", m.kind, m.object, m.set, m.old)
	}
	set.Docs = docs
	set.Istio = nil
	for _, d := range set.Docs {
		if isIstioGroup(d.APIVersion()) {
			set.Istio = append(set.Istio, convertIstio(d))
		}
	}
	return nil
}
