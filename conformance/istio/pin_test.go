package conformance

import (
	"strings"
	"testing"

	"istio.io/istio/pilot/pkg/features"
)

// TestPinnedGatewayAPIVersions: what the pinned istiod (1.31 line) makes of TCPRoutes of both versions.
func TestPinnedGatewayAPIVersions(t *testing.T) {
	base := readTestdata(t, "gateway-api")

	t.Run("a TCPRoute at v1alpha2 (Istio 1.30 and older) is read at v1, with a note on the CRD channel", func(t *testing.T) {
		// GIVEN the testdata's TCPRoute at v1alpha2 while istiod at the pin watches v1
		res := runText(t, "gateway-api", base)
		// THEN the gateway still gets its listener, and the set says what the cluster's CRDs must serve
		listenerOn(t, gatewayAPIProxy(t, res, "ingress/tcp"), 9000)
		if !strings.Contains(strings.Join(res.Notes, "\n"), "TCPRoute ingress/tcp is gateway.networking.k8s.io/v1alpha2, istiod 1.31.0 reads TCPRoute at gateway.networking.k8s.io/v1") {
			t.Fatalf("want a note on the TCPRoute version, got %v", res.Notes)
		}
	})

	t.Run("a TCPRoute at v1 is read as written, and TCP needs no alpha flag", func(t *testing.T) {
		// GIVEN the TCPRoute at v1 (standard channel in Gateway API v1.6), as the library writes it for Istio 1.31+
		res := runText(t, "gateway-api", strings.Replace(base, "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute", "apiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute", 1))
		// THEN istiod, running without PILOT_ENABLE_ALPHA_GATEWAY_API, programs the TCP listener, and nothing is noted
		listenerOn(t, gatewayAPIProxy(t, res, "ingress/tcp"), 9000)
		if features.EnableAlphaGatewayAPI {
			t.Fatalf("want istiod without %s", features.EnableAlphaGatewayAPIName)
		}
		for _, n := range res.Notes {
			if strings.Contains(n, "TCPRoute") || strings.Contains(n, features.EnableAlphaGatewayAPIName) {
				t.Fatalf("want no note on the TCPRoute, got %q", n)
			}
		}
	})
}
