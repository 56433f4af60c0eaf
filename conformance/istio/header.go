package conformance

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	networking "istio.io/api/networking/v1alpha3"
)

// The client-address header (issue 27, `clientAddressHeader()`): the hop that resolved the client writes it into the
// request from `%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%`, over any incoming copy. A VirtualService's
// `headers.request.set` becomes a route-level `request_headers_to_add` with append_action OVERWRITE_IF_EXISTS_OR_ADD
// (pilot/pkg/networking/core/route/route.go translateAppendHeaders); an EnvoyFilter ROUTE_CONFIGURATION MERGE puts
// it on the route configuration. Envoy adds the route configuration's, the virtual host's and the route's headers to
// a request the route forwards (router/header_parser.cc; route config evaluate_headers).
const (
	downstreamAddressOperator = "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
	overwriteHeader           = "OVERWRITE_IF_EXISTS_OR_ADD"
)

// HeaderOptionReport is one request_headers_to_add entry.
type HeaderOptionReport struct {
	Header       string `json:"header"`
	Value        string `json:"value"`
	AppendAction string `json:"appendAction"`
}

// RouteEntryReport is one route of a virtual host: whether it forwards (a route action) and its own request headers.
type RouteEntryReport struct {
	Name                string               `json:"name"`
	Forwards            bool                 `json:"forwards"`
	RequestHeadersToAdd []HeaderOptionReport `json:"requestHeadersToAdd,omitempty"`
}

func headerOptions(opts []*corev3.HeaderValueOption) []HeaderOptionReport {
	var out []HeaderOptionReport
	for _, o := range opts {
		value := o.GetHeader().GetValue()
		if value == "" {
			value = string(o.GetHeader().GetRawValue())
		}
		action := o.GetAppendAction().String()
		//nolint:staticcheck // the deprecated `append: false` overwrites too; report what istiod wrote
		if o.GetAppend() != nil && !o.GetAppend().GetValue() {
			action = overwriteHeader + " (append: false)"
		}
		out = append(out, HeaderOptionReport{Header: strings.ToLower(o.GetHeader().GetKey()), Value: value, AppendAction: action})
	}
	return out
}

// isClientHeaderPatch: a ROUTE_CONFIGURATION MERGE of request_headers_to_add (how the library writes the header on a
// sidecar or a Gateway API gateway). Where the set has the trace's expectations, compareClientHeader checks its effect.
func isClientHeaderPatch(cp *networking.EnvoyFilter_EnvoyConfigObjectPatch) bool {
	return cp.GetApplyTo() == networking.EnvoyFilter_ROUTE_CONFIGURATION && cp.GetPatch().GetOperation() == networking.EnvoyFilter_Patch_MERGE &&
		cp.GetPatch().GetValue().GetFields()["request_headers_to_add"] != nil
}

// writesClientAddress: a header option with the downstream address operator in its value.
func writesClientAddress(h HeaderOptionReport) bool {
	return strings.Contains(h.Value, "%DOWNSTREAM_REMOTE_ADDRESS")
}

// compareClientHeader requires the trace's client-address header (`want`, "" for none) on the proxy: every route that
// forwards, in the scope of the writer (a gateway's RDS routes; a sidecar's inline inbound routes), adds the header
// from the downstream address with overwrite semantics, at its own, its virtual host's or its route configuration's
// level. Everywhere else, and on every proxy without a header, no header option writes the downstream address.
func (c *checker) compareClientHeader(where, want string, r ProxyReport) {
	sidecar := r.Proxy.Type == "Sidecar"
	for _, l := range r.Listeners {
		for _, ch := range l.Chains {
			if ch.HCM == nil || ch.HCM.InlineRoute == nil {
				continue
			}
			inScope := want != "" && sidecar && l.Name == virtualInboundName
			c.compareRouteHeaders(fmt.Sprintf("%s: listener %s chain %q", where, l.Name, ch.Name), want, inScope, *ch.HCM.InlineRoute)
		}
	}
	for _, rc := range r.Routes {
		c.compareRouteHeaders(fmt.Sprintf("%s: route %s", where, rc.Name), want, want != "" && !sidecar, rc)
	}
}

func (c *checker) compareRouteHeaders(at, want string, inScope bool, rc RouteReport) {
	for _, vh := range rc.VirtualHosts {
		for _, rt := range vh.Routes {
			// The route's own headers first, then the virtual host's and the route configuration's.
			opts := append(append(append([]HeaderOptionReport{}, rt.RequestHeadersToAdd...), vh.RequestHeadersToAdd...), rc.RequestHeadersToAdd...)
			var writes []string
			found := false
			for _, h := range opts {
				if writesClientAddress(h) {
					writes = append(writes, fmt.Sprintf("%s: %s (%s)", h.Header, h.Value, h.AppendAction))
				}
				if h.Header == strings.ToLower(want) && h.Value == downstreamAddressOperator && h.AppendAction == overwriteHeader {
					found = true
				}
			}
			route := fmt.Sprintf("%s virtual host %s route %q", at, vh.Name, rt.Name)
			switch {
			case inScope && rt.Forwards:
				c.check(found, "%s does not set %s from %s (%s), the trace expects it there; it writes %s", route, want, downstreamAddressOperator, overwriteHeader, orNone(writes))
			case !inScope:
				c.check(len(writes) == 0, "%s writes %s, the trace expects no client-address header here", route, strings.Join(writes, ", "))
			}
		}
	}
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
