package conformance

import (
	"strings"
	"testing"
)

// TestPinnedGatewayAPIVersions: what the pinned istiod (1.30 behaviour) makes of TCPRoutes of both versions.
func TestPinnedGatewayAPIVersions(t *testing.T) {
	base := readTestdata(t, "gateway-api")

	t.Run("a TCPRoute at v1alpha2 is read as written, with the alpha flag noted", func(t *testing.T) {
		// GIVEN the testdata's TCPRoute at v1alpha2, the version istiod at the pin watches
		res := runText(t, "gateway-api", base)
		// THEN the gateway gets its listener, and the set says istiod needs PILOT_ENABLE_ALPHA_GATEWAY_API
		listenerOn(t, gatewayAPIProxy(t, res, "ingress/tcp"), 9000)
		notes := strings.Join(res.Notes, "\n")
		if !strings.Contains(notes, "istiod 1.30.0 runs with PILOT_ENABLE_ALPHA_GATEWAY_API=true here") || strings.Contains(notes, "reads TCPRoute at") {
			t.Fatalf("want a note on the alpha flag only, got %v", res.Notes)
		}
	})

	t.Run("a TCPRoute at v1 is read at v1alpha2, with a note on the CRD channel", func(t *testing.T) {
		// GIVEN the TCPRoute at v1 (standard channel in Gateway API v1.6) while istiod at the pin watches v1alpha2
		res := runText(t, "gateway-api", strings.Replace(base, "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute", "apiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute", 1))
		// THEN the gateway still gets its listener, and the set says what the cluster's CRDs must serve
		listenerOn(t, gatewayAPIProxy(t, res, "ingress/tcp"), 9000)
		if !strings.Contains(strings.Join(res.Notes, "\n"), "TCPRoute ingress/tcp is gateway.networking.k8s.io/v1, istiod 1.30.0 reads TCPRoute at gateway.networking.k8s.io/v1alpha2") {
			t.Fatalf("want a note on the TCPRoute version, got %v", res.Notes)
		}
	})
}
