package conformance

// What differs between the istiod commits this code runs with: each module (conformance/istio,
// conformance/istio-1.30) has its own pin.go and pin_test.go and shares every other file (symbolic links).

// IstioVersion is the proxy version the fake istiod configures for: the Istio release the pinned commit stands for.
// conformance/istio-1.30 pins master of 2026-04-23 (VERSION 1.31, ten days after the release-1.30 branch point),
// which on the library's gates behaves as released 1.30 does: TCPRoute at v1alpha2, Gateway API TCP only with
// PILOT_ENABLE_ALPHA_GATEWAY_API (see README.md). Its object sets are synthesised for Istio 1.30, so its proxies
// announce 1.30.0 (EnvoyFilters pinned with `match.proxy.proxyVersion` select them).
const IstioVersion = "1.30.0"

// gatewayAPITCPNeedsAlphaFlag: the pinned istiod serves Gateway API TCP listeners and TCPRoutes only with
// PILOT_ENABLE_ALPHA_GATEWAY_API=true (pilot/pkg/config/kube/gateway/conversion.go listenerProtocolToIstio and
// controller.go at the pin, as on release-1.30).
const gatewayAPITCPNeedsAlphaFlag = true
