package conformance

// What differs between the istiod commits this code runs with: each module (conformance/istio,
// conformance/istio-1.30) has its own pin.go and pin_test.go and shares every other file.

// IstioVersion is the proxy version the fake istiod configures for: the Istio release the pinned commit stands for.
// conformance/istio pins a commit of the release-1.31 branch (VERSION 1.31).
const IstioVersion = "1.31.0"

// gatewayAPITCPNeedsAlphaFlag: the pinned istiod serves Gateway API TCP listeners and TCPRoutes only with
// PILOT_ENABLE_ALPHA_GATEWAY_API=true. False from 1.31 (istio/istio#60766; pilot/pkg/config/kube/gateway).
const gatewayAPITCPNeedsAlphaFlag = false
