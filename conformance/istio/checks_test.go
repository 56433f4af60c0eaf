package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runText checks one object set given as YAML text.
func runText(t *testing.T, name, yaml string) SetResult {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "objects.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := LoadObjectSet(dir)
	if err != nil {
		t.Fatal(err)
	}
	return Run(t, set)
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name, "objects.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// withoutDocument drops the YAML documents that contain marker.
func withoutDocument(yaml, marker string) string {
	var kept []string
	for _, doc := range strings.Split(yaml, "\n---\n") {
		if !strings.Contains(doc, marker) {
			kept = append(kept, doc)
		}
	}
	return strings.Join(kept, "\n---\n")
}

// onlyDocument returns the first YAML document that contains marker.
func onlyDocument(yaml, marker string) string {
	for _, doc := range strings.Split(yaml, "\n---\n") {
		if strings.Contains(doc, marker) {
			return doc
		}
	}
	return ""
}

// The hand-written sets pass every check: the failure tests below break exactly one thing in them.
func TestTestdataPasses(t *testing.T) {
	for _, name := range []string{"gateway", "backend", "sidecar", "gateway-api"} {
		t.Run(name, func(t *testing.T) {
			res := runText(t, name, readTestdata(t, name))
			if len(res.Failures) > 0 {
				t.Fatalf("GIVEN testdata/%s THEN no check fails, got:\n%s", name, strings.Join(res.Failures, "\n"))
			}
			if res.Checks < 3 || len(res.Proxies) == 0 {
				t.Fatalf("testdata/%s exercised %d checks on %d proxies", name, res.Checks, len(res.Proxies))
			}
		})
	}
}

func TestTestdataReports(t *testing.T) {
	// GIVEN the gateway set WHEN istiod generates its listeners
	res := runText(t, "gateway", readTestdata(t, "gateway"))
	if len(res.Proxies) != 1 {
		t.Fatalf("want 1 proxy, got %d", len(res.Proxies))
	}
	listeners := map[uint32]ListenerReport{}
	for _, l := range res.Proxies[0].Listeners {
		listeners[l.Port] = l
	}
	// THEN PROXY is required on the TLS port (the Service's targetPort) and absent on HTTP
	if pp := listeners[8443].ProxyProtocol; pp == nil || pp.AllowRequestsWithoutProxyProtocol {
		t.Errorf("listener 8443: want strict PROXY, got %+v", pp)
	}
	if listeners[8080].ProxyProtocol != nil {
		t.Errorf("listener 8080: want no PROXY, got %+v", listeners[8080].ProxyProtocol)
	}
	// AND the HTTP listener trusts 1 hop and uses the remote address
	hcm := listeners[8080].Chains[0].HCM
	if hcm == nil || !hcm.UseRemoteAddress || hcm.XffNumTrustedHops != 1 {
		t.Errorf("listener 8080 HCM: %+v", hcm)
	}
}

func TestFailsOnBrokenSets(t *testing.T) {
	cases := []struct {
		name, base string
		breakIt    func(string) string
		want       string
	}{
		{
			name: "fails when a listener filter matches no listener", base: "gateway",
			breakIt: func(y string) string { return strings.Replace(y, "portNumber: 8443", "portNumber: 443", 1) },
			want:    "matches no listener",
		},
		{
			name: "fails when an HCM merge matches no filter chain", base: "sidecar",
			breakIt: func(y string) string { return strings.Replace(y, "portNumber: 8000", "portNumber: 8080", 1) },
			want:    "matches no envoy.filters.network.http_connection_manager filter",
		},
		{
			name: "fails when a patch names a field the HCM does not have", base: "sidecar",
			breakIt: func(y string) string {
				return strings.Replace(y, "xff_num_trusted_hops: 2", "xff_num_trusted_hop: 2", 1)
			},
			want: "Istio's validation warns",
		},
		{
			name: "fails when a misspelt field is dropped from the merge", base: "sidecar",
			breakIt: func(y string) string {
				return strings.Replace(y, "xff_num_trusted_hops: 2", "xff_num_trusted_hop: 2", 1)
			},
			want: "does not show the merged fields",
		},
		{
			name: "fails when a later filter overrides the merged value", base: "sidecar",
			breakIt: func(y string) string {
				late := strings.Replace(onlyDocument(y, "kind: EnvoyFilter"), "name: httpbin-xff", "name: httpbin-xff-late", 1)
				late = strings.Replace(late, "spec:", "spec:\n  priority: 10", 1)
				return y + "\n---\n" + strings.Replace(late, "xff_num_trusted_hops: 2", "xff_num_trusted_hops: 5", 1)
			},
			want: "does not show the merged fields",
		},
		{
			name: "fails when a policy CIDR is not an address", base: "gateway",
			breakIt: func(y string) string { return strings.Replace(y, "2.2.2.0/24", "2.2.2.0/33", 1) },
			want:    "rejected by Istio's validation",
		},
		{
			name: "fails when PROXY is sent but the backend does not accept it", base: "backend",
			breakIt: func(y string) string { return withoutDocument(y, "kind: EnvoyFilter") },
			want:    "does not accept PROXY",
		},
		{
			name: "fails when the backend requires PROXY but nothing sends it", base: "backend",
			breakIt: func(y string) string { return withoutDocument(y, "kind: DestinationRule") },
			want:    "no DestinationRule of the set sends PROXY",
		},
		{
			name: "fails when the gateway annotation is not JSON or YAML", base: "gateway",
			breakIt: func(y string) string {
				return strings.Replace(y, `'{"gatewayTopology":{"numTrustedProxies":1}}'`, `'{"gatewayTopology":{"numTrustedProxies":"one"}}'`, 1)
			},
			want: "proxy.istio.io/config",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a passing set with one thing broken
			yaml := readTestdata(t, tc.base)
			broken := tc.breakIt(yaml)
			if broken == yaml {
				t.Fatal("the mutation did not change the set")
			}
			// WHEN it is checked
			res := runText(t, tc.base, broken)
			// THEN the matching check fails
			for _, f := range res.Failures {
				if strings.Contains(f, tc.want) {
					return
				}
			}
			t.Fatalf("want a failure containing %q, got %d failures:\n%s", tc.want, len(res.Failures), strings.Join(res.Failures, "\n"))
		})
	}
}

func TestSubset(t *testing.T) {
	got := map[string]any{"@type": "x", "use_remote_address": true, "list": []any{map[string]any{"a": 1.0, "b": "c"}}}
	if !subset(map[string]any{"@type": "x", "useRemoteAddress": true, "skip_xff_append": false}, got) {
		t.Error("camelCase key and absent zero value should match")
	}
	if subset(map[string]any{"xff_num_trusted_hops": 2.0}, got) {
		t.Error("absent non-zero field must not match")
	}
	if !subset(map[string]any{"list": []any{map[string]any{"a": 1.0}}}, got) || subset(map[string]any{"list": []any{map[string]any{"a": 2.0}}}, got) {
		t.Error("list elements match by subset")
	}
}
