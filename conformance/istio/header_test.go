package conformance

import (
	"strings"
	"testing"
)

const (
	vsRoute       = "  http:\n  - route:\n"
	vsHeaderRoute = "  http:\n  - headers: {request: {set: {x-real-ip: \"%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%\"}}}\n    route:\n"
	// sidecarHeaderFilter writes the header on httpbin's inbound routes, as the library's sidecar writer does.
	sidecarHeaderFilter = `---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: httpbin-client-address-header
  namespace: web
spec:
  workloadSelector:
    labels: {app: httpbin}
  configPatches:
  - applyTo: ROUTE_CONFIGURATION
    match: {context: SIDECAR_INBOUND}
    patch:
      operation: MERGE
      value:
        request_headers_to_add:
        - append_action: OVERWRITE_IF_EXISTS_OR_ADD
          header: {key: x-real-ip, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"}
`
)

// headerYAML is testdata/ratelimit with the gateway's VirtualService setting x-real-ip from the client address.
func headerYAML(t *testing.T) string {
	y := readTestdata(t, "ratelimit")
	if !strings.Contains(y, vsRoute) {
		t.Fatal("testdata/ratelimit has no VirtualService http route")
	}
	return strings.Replace(y, vsRoute, vsHeaderRoute, 1)
}

func headerExpectations(gateway, sidecar string) Expectations {
	e := rateLimitExpectations()
	e.Proxies[0].ClientAddressHeader = gateway
	e.Proxies[1].ClientAddressHeader = sidecar
	return e
}

func TestClientHeaderAgrees(t *testing.T) {
	// GIVEN the gateway writing x-real-ip (VirtualService), and the same with the sidecar writing it (EnvoyFilter)
	for name, tc := range map[string]struct {
		yaml             string
		gateway, sidecar string
	}{
		"gateway writer": {headerYAML(t), "x-real-ip", ""},
		"sidecar writer": {readTestdata(t, "ratelimit") + sidecarHeaderFilter, "", "x-real-ip"},
	} {
		t.Run(name, func(t *testing.T) {
			// WHEN checked against the expectation of that writer THEN nothing fails, and no patch is noted unchecked
			res := runWithExpectations(t, tc.yaml, headerExpectations(tc.gateway, tc.sidecar))
			if len(res.Failures) > 0 {
				t.Fatalf("failures: %q", res.Failures)
			}
			if notes := strings.Join(res.Notes, "\n"); strings.Contains(notes, "not checked") {
				t.Errorf("notes: %q", res.Notes)
			}
		})
	}
}

func TestClientHeaderFailsOnEveryDifference(t *testing.T) {
	cases := map[string]struct {
		yaml             func(t *testing.T) string
		gateway, sidecar string
		want             string
	}{
		"not written": {
			yaml: func(t *testing.T) string { return readTestdata(t, "ratelimit") }, gateway: "x-real-ip",
			want: `gateway istio-ingress/edge (test): route http.8080 virtual host web.example.com:8080 route "" does not set x-real-ip from %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% (OVERWRITE_IF_EXISTS_OR_ADD), the trace expects it there; it writes none`,
		},
		"another name": {
			yaml: headerYAML, gateway: "x-client-ip",
			want: "does not set x-client-ip from %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% (OVERWRITE_IF_EXISTS_OR_ADD), the trace expects it there; it writes x-real-ip: %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% (OVERWRITE_IF_EXISTS_OR_ADD)",
		},
		"appended, not set": {
			yaml: func(t *testing.T) string {
				return strings.Replace(headerYAML(t), "request: {set:", "request: {add:", 1)
			},
			gateway: "x-real-ip",
			want:    "it writes x-real-ip: %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% (APPEND_IF_EXISTS_OR_ADD)",
		},
		"from X-Forwarded-For": {
			yaml: func(t *testing.T) string {
				return strings.Replace(headerYAML(t), "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", "%REQ(X-FORWARDED-FOR)%", 1)
			},
			gateway: "x-real-ip",
			want:    "does not set x-real-ip from %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% (OVERWRITE_IF_EXISTS_OR_ADD), the trace expects it there; it writes none",
		},
		"written where none is expected": {
			yaml: headerYAML,
			want: `route "" writes x-real-ip: %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% (OVERWRITE_IF_EXISTS_OR_ADD), the trace expects no client-address header here`,
		},
		"sidecar writes, gateway expected": {
			yaml:    func(t *testing.T) string { return readTestdata(t, "ratelimit") + sidecarHeaderFilter },
			gateway: "x-real-ip",
			want:    `sidecar web/httpbin (test): listener virtualInbound chain "virtualInbound-catchall-http" virtual host inbound|http|0 route "default" writes x-real-ip`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN the set or the expected writer changed in one thing WHEN checked THEN that fails
			wantFailure(t, runWithExpectations(t, tc.yaml(t), headerExpectations(tc.gateway, tc.sidecar)), tc.want)
		})
	}
}
