package conformance

import (
	"strings"
	"testing"
)

// rateLimitExpectations is what the trace would expect of testdata/ratelimit: the limit on the gateway, none on the
// sidecar behind it.
func rateLimitExpectations() Expectations {
	return Expectations{From: "test", Proxies: []ExpectedProxy{
		{
			Namespace: "istio-ingress", Name: "edge", Labels: map[string]string{"istio": "edge"}, Role: "gateway", Source: "test",
			Listeners: []ExpectedListener{{Port: 8080, ProxyProtocol: "none"}},
			HCM:       &ExpectedHCM{UseRemoteAddress: true, XffNumTrustedHops: 1},
			RateLimits: []ExpectedRateLimit{{
				RateLimit: "istio-ingress/edge-rate-limit", TokensPerFill: 10, MaxTokens: 20, FillIntervalMillis: 1000, MaxDynamicDescriptors: 1000,
			}},
		},
		{
			Namespace: "web", Name: "httpbin", Labels: map[string]string{"app": "httpbin"}, Role: "sidecar", Source: "test",
			InterceptionMode: "REDIRECT", InboundProxyProtocol: "none", InboundHCM: &ExpectedHCM{},
		},
	}}
}

func TestRateLimitsAgree(t *testing.T) {
	// GIVEN a gateway with a per-client limit, a sidecar without, and what the trace expects of them WHEN checked
	res := runWithExpectations(t, readTestdata(t, "ratelimit"), rateLimitExpectations())
	// THEN nothing fails, and the patches are not noted as unchecked
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %q", res.Failures)
	}
	if notes := strings.Join(res.Notes, "\n"); strings.Contains(notes, "not checked") {
		t.Errorf("notes: %q", res.Notes)
	}
	gw := findReport(t, res, "edge")
	if len(gw.Routes) == 0 || len(gw.Listeners) == 0 {
		t.Fatalf("the gateway report has no routes or listeners: %+v", gw)
	}
}

func TestRateLimitsFailOnEveryDifference(t *testing.T) {
	const selector = "workloadSelector:\n    labels: {istio: edge}"
	cases := map[string]struct {
		edit func(e *Expectations)
		yaml func(string) string
		want []string
	}{
		"on another proxy": {
			yaml: func(y string) string {
				y = strings.Replace(y, "name: edge-rate-limit\n  namespace: istio-ingress", "name: edge-rate-limit\n  namespace: web", 1)
				y = strings.Replace(y, selector, "workloadSelector:\n    labels: {app: httpbin}", 1)
				return strings.ReplaceAll(y, "context: GATEWAY", "context: SIDECAR_INBOUND")
			},
			want: []string{
				"gateway istio-ingress/edge (test): listener 0.0.0.0_8080 chain \"\": no local rate-limit filter, the trace expects istio-ingress/edge-rate-limit",
				"virtual host web.example.com:8080 has no remote_address rate limit",
				"sidecar web/httpbin (test): listener virtualInbound chain",
				"local rate-limit filter(s) (descriptors [remote_address] bucket 10 per 1000ms max 20, max_dynamic_descriptors 1000, enforced true, before router true), the trace expects none here",
				"has a remote_address rate limit, the trace expects none here",
			},
		},
		"HTTP filter patch applies nowhere": {
			yaml: func(y string) string {
				return strings.Replace(y, "      listener:\n        filterChain:", "      listener:\n        portNumber: 9\n        filterChain:", 1)
			},
			want: []string{"no local rate-limit filter, the trace expects istio-ingress/edge-rate-limit"},
		},
		"virtual host patch applies nowhere": {
			yaml: func(y string) string {
				return strings.Replace(y, "      context: GATEWAY\n    patch:\n      operation: MERGE", "      context: GATEWAY\n      routeConfiguration: {vhost: {name: other:80}}\n    patch:\n      operation: MERGE", 1)
			},
			want: []string{"route http.8080 virtual host web.example.com:8080 has no remote_address rate limit, the trace expects istio-ingress/edge-rate-limit"},
		},
		"not before the router": {
			yaml: func(y string) string {
				return strings.Replace(y, "operation: INSERT_BEFORE", "operation: INSERT_FIRST", 1)
			},
			want: []string{"the local rate-limit filter is not immediately before envoy.filters.http.router"},
		},
		"a descriptor value": {
			yaml: func(y string) string {
				return strings.Replace(y, "entries: [{key: remote_address}]", `entries: [{key: remote_address, value: "192.0.2.1"}]`, 1)
			},
			want: []string{"no local rate-limit filter with istio-ingress/edge-rate-limit: descriptor [remote_address] bucket 10 per 1000ms max 20, max_dynamic_descriptors 1000, enforced (got descriptors [remote_address=192.0.2.1]"},
		},
		"not enforced": {
			yaml: func(y string) string {
				return strings.Replace(y, "filter_enforced: {default_value: {numerator: 100", "filter_enforced: {default_value: {numerator: 0", 1)
			},
			want: []string{"enforced false"},
		},
		"bucket": {
			edit: func(e *Expectations) { e.Proxies[0].RateLimits[0].TokensPerFill = 5 },
			want: []string{"no local rate-limit filter with istio-ingress/edge-rate-limit: descriptor [remote_address] bucket 5 per 1000ms max 20"},
		},
		"max clients": {
			edit: func(e *Expectations) { e.Proxies[0].RateLimits[0].MaxDynamicDescriptors = 10000 },
			want: []string{"max_dynamic_descriptors 10000, enforced (got descriptors [remote_address] bucket 10 per 1000ms max 20, max_dynamic_descriptors 1000"},
		},
		"unexpected limit": {
			edit: func(e *Expectations) { e.Proxies[0].RateLimits = nil },
			want: []string{"the trace expects none here"},
		},
		"two limits expected": {
			edit: func(e *Expectations) {
				e.Proxies[0].RateLimits = append(e.Proxies[0].RateLimits, e.Proxies[0].RateLimits[0])
			},
			want: []string{"1 local rate-limit filters (", "the trace expects 2"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN the rate-limit set, or its expectations, changed in one thing WHEN checked THEN that fails
			e := rateLimitExpectations()
			if tc.edit != nil {
				tc.edit(&e)
			}
			yaml := readTestdata(t, "ratelimit")
			if tc.yaml != nil {
				edited := tc.yaml(yaml)
				if edited == yaml {
					t.Fatal("the edit changed nothing")
				}
				yaml = edited
			}
			res := runWithExpectations(t, yaml, e)
			for _, w := range tc.want {
				wantFailure(t, res, w)
			}
		})
	}
}

func findReport(t *testing.T, res SetResult, name string) ProxyReport {
	t.Helper()
	for _, p := range res.Proxies {
		if p.Proxy.Name == name {
			return p
		}
	}
	t.Fatalf("no report for %s", name)
	return ProxyReport{}
}
