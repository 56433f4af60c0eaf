package conformance

import (
	"fmt"
	"slices"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	networking "istio.io/api/networking/v1alpha3"
)

// Per-client rate limits (issue 27): Envoy's local rate-limit HTTP filter with a value-less `remote_address`
// descriptor (one token bucket per client address), and a `remote_address` action on the virtual hosts that produces
// that descriptor. istiod applies an EnvoyFilter's HTTP_FILTER patch to the HCMs of the listeners in its context
// (pilot/pkg/networking/core/envoyfilter/listener_patch.go, ApplyListenerPatches) and its VIRTUAL_HOST patch to the
// route configurations it builds (httproute.go, ApplyRouteConfigurationPatches): a gateway's RDS with GATEWAY
// (BuildHTTPRoutes -> gateway.go buildGatewayHTTPRouteConfig), a sidecar's inline inbound route with SIDECAR_INBOUND
// (buildSidecarInboundHTTPRouteConfig), a sidecar's outbound RDS with SIDECAR_OUTBOUND.
const (
	localRateLimitFilter = "envoy.filters.http.local_ratelimit"
	routerFilter         = "envoy.filters.http.router"
	remoteAddressKey     = "remote_address"
)

// LocalRateLimitReport is one local rate-limit HTTP filter of an HCM.
type LocalRateLimitReport struct {
	// BeforeRouter: the filter is the one immediately before the router.
	BeforeRouter bool `json:"beforeRouter"`
	// Enforced: filter_enabled and filter_enforced are both 100%.
	Enforced bool `json:"enforced"`
	// Descriptors are the filter's descriptors: entries as "key" (no value: one bucket per value) or "key=value".
	Descriptors []DescriptorReport `json:"descriptors"`
	// MaxDynamicDescriptors is 0 when the field is not set (Envoy's default of 20 applies).
	MaxDynamicDescriptors uint32 `json:"maxDynamicDescriptors"`
	// TokenBucket is the filter's default bucket (nil when absent).
	TokenBucket *BucketReport `json:"tokenBucket"`
}

// DescriptorReport is one descriptor of a local rate limit.
type DescriptorReport struct {
	Entries []string      `json:"entries"`
	Bucket  *BucketReport `json:"bucket"`
}

// BucketReport is a token bucket.
type BucketReport struct {
	MaxTokens          uint32 `json:"maxTokens"`
	TokensPerFill      uint32 `json:"tokensPerFill"`
	FillIntervalMillis int64  `json:"fillIntervalMillis"`
}

// RouteReport is one route configuration istiod generated for the proxy (RDS, or inline in an HCM).
type RouteReport struct {
	Name string `json:"name"`
	// RequestHeadersToAdd are the route configuration's own (header.go).
	RequestHeadersToAdd []HeaderOptionReport `json:"requestHeadersToAdd,omitempty"`
	VirtualHosts        []VirtualHostReport  `json:"virtualHosts"`
}

// VirtualHostReport is one virtual host: whether its rate_limits have a remote_address action, its request headers
// and its routes.
type VirtualHostReport struct {
	Name                string               `json:"name"`
	RemoteAddress       bool                 `json:"remoteAddressRateLimit"`
	RequestHeadersToAdd []HeaderOptionReport `json:"requestHeadersToAdd,omitempty"`
	Routes              []RouteEntryReport   `json:"routes"`
}

func bucketReport(b *typev3.TokenBucket) *BucketReport {
	if b == nil {
		return nil
	}
	tokensPerFill := uint32(1) // Envoy's default (type/v3/token_bucket.proto)
	if b.GetTokensPerFill() != nil {
		tokensPerFill = b.GetTokensPerFill().GetValue()
	}
	return &BucketReport{MaxTokens: b.GetMaxTokens(), TokensPerFill: tokensPerFill, FillIntervalMillis: b.GetFillInterval().AsDuration().Milliseconds()}
}

// reportHTTPFilters names the HCM's HTTP filters and reduces its local rate-limit filters.
func reportHTTPFilters(h *hcmv3.HttpConnectionManager) ([]string, []LocalRateLimitReport, error) {
	names := []string{}
	limits := []LocalRateLimitReport{}
	filters := h.GetHttpFilters()
	for i, hf := range filters {
		names = append(names, hf.GetName())
		if hf.GetName() != localRateLimitFilter {
			continue
		}
		cfg := &localratelimitv3.LocalRateLimit{}
		if err := unmarshal(hf.GetTypedConfig(), cfg); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", localRateLimitFilter, err)
		}
		r := LocalRateLimitReport{
			BeforeRouter:          i+1 < len(filters) && filters[i+1].GetName() == routerFilter,
			Enforced:              fullPercent(cfg.GetFilterEnabled().GetDefaultValue()) && fullPercent(cfg.GetFilterEnforced().GetDefaultValue()),
			Descriptors:           []DescriptorReport{},
			MaxDynamicDescriptors: cfg.GetMaxDynamicDescriptors().GetValue(),
			TokenBucket:           bucketReport(cfg.GetTokenBucket()),
		}
		for _, d := range cfg.GetDescriptors() {
			dr := DescriptorReport{Entries: []string{}, Bucket: bucketReport(d.GetTokenBucket())}
			for _, e := range d.GetEntries() {
				entry := e.GetKey()
				if e.GetValue() != "" {
					entry += "=" + e.GetValue()
				}
				dr.Entries = append(dr.Entries, entry)
			}
			r.Descriptors = append(r.Descriptors, dr)
		}
		limits = append(limits, r)
	}
	return names, limits, nil
}

// fullPercent: a FractionalPercent of 100% (Envoy enables and enforces nothing when the field is absent).
func fullPercent(p *typev3.FractionalPercent) bool {
	if p == nil {
		return false
	}
	switch p.GetDenominator() {
	case typev3.FractionalPercent_HUNDRED:
		return p.GetNumerator() >= 100
	case typev3.FractionalPercent_TEN_THOUSAND:
		return p.GetNumerator() >= 10_000
	}
	return p.GetNumerator() >= 1_000_000
}

// reportRoute reduces a route configuration (nil: an HCM whose routes come by RDS).
func reportRoute(rc *routev3.RouteConfiguration) *RouteReport {
	if rc == nil {
		return nil
	}
	r := &RouteReport{Name: rc.GetName(), RequestHeadersToAdd: headerOptions(rc.GetRequestHeadersToAdd()), VirtualHosts: []VirtualHostReport{}}
	for _, vh := range rc.GetVirtualHosts() {
		v := VirtualHostReport{Name: vh.GetName(), RequestHeadersToAdd: headerOptions(vh.GetRequestHeadersToAdd()), Routes: []RouteEntryReport{}}
		for _, rl := range vh.GetRateLimits() {
			for _, a := range rl.GetActions() {
				if a.GetRemoteAddress() != nil {
					v.RemoteAddress = true
				}
			}
		}
		for _, rt := range vh.GetRoutes() {
			v.Routes = append(v.Routes, RouteEntryReport{Name: rt.GetName(), Forwards: rt.GetRoute() != nil, RequestHeadersToAdd: headerOptions(rt.GetRequestHeadersToAdd())})
		}
		r.VirtualHosts = append(r.VirtualHosts, v)
	}
	return r
}

// reportRoutes reduces the RDS route configurations istiod built for the proxy.
func reportRoutes(routes []*routev3.RouteConfiguration) []RouteReport {
	out := []RouteReport{}
	for _, rc := range routes {
		out = append(out, *reportRoute(rc))
	}
	slices.SortFunc(out, func(a, b RouteReport) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// strayRateLimits names the listeners the report leaves out (a sidecar's outbound ones) whose HCMs have a local
// rate-limit filter: none may have one.
func strayRateLimits(all []*listenerv3.Listener, reported []ListenerReport) ([]string, error) {
	out := []string{}
	for _, l := range all {
		if slices.ContainsFunc(reported, func(r ListenerReport) bool { return r.Name == l.GetName() }) {
			continue
		}
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				if f.GetName() != hcmFilter {
					continue
				}
				h := &hcmv3.HttpConnectionManager{}
				if err := unmarshal(f.GetTypedConfig(), h); err != nil {
					return nil, fmt.Errorf("listener %s: %v", l.GetName(), err)
				}
				if slices.ContainsFunc(h.GetHttpFilters(), func(hf *hcmv3.HttpFilter) bool { return hf.GetName() == localRateLimitFilter }) {
					out = append(out, fmt.Sprintf("%s chain %q", l.GetName(), fc.GetName()))
				}
			}
		}
	}
	return out, nil
}

// isRateLimitPatch: an HTTP_FILTER patch that inserts the local rate-limit filter, or a VIRTUAL_HOST MERGE of
// rate_limits. Where the set has the trace's expectations, compareRateLimits checks their effect on every proxy.
func isRateLimitPatch(cp *networking.EnvoyFilter_EnvoyConfigObjectPatch) bool {
	fields := cp.GetPatch().GetValue().GetFields()
	switch cp.GetApplyTo() {
	case networking.EnvoyFilter_HTTP_FILTER:
		return inserts(cp.GetPatch().GetOperation()) && fields["name"].GetStringValue() == localRateLimitFilter
	case networking.EnvoyFilter_VIRTUAL_HOST:
		return cp.GetPatch().GetOperation() == networking.EnvoyFilter_Patch_MERGE && fields["rate_limits"] != nil
	}
	return false
}

// compareRateLimits requires the trace's rate limits on the proxy, and nothing of the kind on a proxy without one:
// every HCM in the limits' context (a gateway's; a sidecar's inbound ones) has one local rate-limit filter per limit,
// the last immediately before the router, with a value-less remote_address descriptor holding the limit's bucket and
// max_dynamic_descriptors; every virtual host of the routes in that context (a gateway's RDS; the inline inbound
// routes of a sidecar) has a remote_address action. A missing, extra or different one is one failure line each.
func (c *checker) compareRateLimits(where string, want []ExpectedRateLimit, r ProxyReport) {
	sidecar := r.Proxy.Type == "Sidecar"
	for _, l := range r.Listeners {
		for _, ch := range l.Chains {
			if ch.HCM == nil {
				continue
			}
			at := fmt.Sprintf("%s: listener %s chain %q", where, l.Name, ch.Name)
			inScope := !sidecar || l.Name == virtualInboundName
			if !inScope || len(want) == 0 {
				c.check(len(ch.HCM.LocalRateLimits) == 0, "%s: %d local rate-limit filter(s) (%s), the trace expects none here", at, len(ch.HCM.LocalRateLimits), describeLimits(ch.HCM.LocalRateLimits))
				for _, vh := range ch.HCM.inlineVirtualHosts() {
					c.check(!vh.RemoteAddress, "%s: virtual host %s has a remote_address rate limit, the trace expects none here", at, vh.Name)
				}
				continue
			}
			c.compareFilters(at, want, ch.HCM.LocalRateLimits)
			if sidecar && ch.HCM.RDS == "" {
				for _, vh := range ch.HCM.inlineVirtualHosts() {
					c.check(vh.RemoteAddress, "%s: virtual host %s has no remote_address rate limit, the trace expects %s", at, vh.Name, limitNames(want))
				}
			}
		}
	}
	for _, rc := range r.Routes {
		// A gateway's RDS is in the GATEWAY context; a sidecar's RDS is outbound, where no limit of the library applies.
		expected := len(want) > 0 && !sidecar
		for _, vh := range rc.VirtualHosts {
			if expected {
				c.check(vh.RemoteAddress, "%s: route %s virtual host %s has no remote_address rate limit, the trace expects %s", where, rc.Name, vh.Name, limitNames(want))
			} else {
				c.check(!vh.RemoteAddress, "%s: route %s virtual host %s has a remote_address rate limit, the trace expects none here", where, rc.Name, vh.Name)
			}
		}
	}
	for _, s := range r.StrayRateLimits {
		c.check(false, "%s: listener %s has a local rate-limit filter, the trace expects none here", where, s)
	}
}

// inlineVirtualHosts are the virtual hosts of the HCM's inline route configuration (none when it uses RDS).
func (h *HCMReport) inlineVirtualHosts() []VirtualHostReport {
	if h.InlineRoute == nil {
		return nil
	}
	return h.InlineRoute.VirtualHosts
}

// compareFilters matches an HCM's local rate-limit filters with the expected limits, one to one.
func (c *checker) compareFilters(at string, want []ExpectedRateLimit, got []LocalRateLimitReport) {
	if !c.check(len(got) > 0, "%s: no local rate-limit filter, the trace expects %s", at, limitNames(want)) {
		return
	}
	c.check(len(got) == len(want), "%s: %d local rate-limit filters (%s), the trace expects %d (%s)", at, len(got), describeLimits(got), len(want), limitNames(want))
	c.check(got[len(got)-1].BeforeRouter, "%s: the local rate-limit filter is not immediately before %s", at, routerFilter)
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if !used[i] && matchesLimit(w, g) {
				used[i], found = true, true
				break
			}
		}
		c.check(found, "%s: no local rate-limit filter with %s (got %s)", at, describeWant(w), describeLimits(got))
	}
}

// matchesLimit: enforced, a single value-less remote_address descriptor with the limit's bucket, and its
// max_dynamic_descriptors.
func matchesLimit(w ExpectedRateLimit, g LocalRateLimitReport) bool {
	if !g.Enforced || g.MaxDynamicDescriptors != w.MaxDynamicDescriptors || len(g.Descriptors) != 1 {
		return false
	}
	d := g.Descriptors[0]
	return slices.Equal(d.Entries, []string{remoteAddressKey}) && d.Bucket != nil &&
		*d.Bucket == BucketReport{MaxTokens: w.MaxTokens, TokensPerFill: w.TokensPerFill, FillIntervalMillis: w.FillIntervalMillis}
}

func describeWant(w ExpectedRateLimit) string {
	return fmt.Sprintf("%s: descriptor [%s] bucket %d per %dms max %d, max_dynamic_descriptors %d, enforced", w.RateLimit, remoteAddressKey, w.TokensPerFill, w.FillIntervalMillis, w.MaxTokens, w.MaxDynamicDescriptors)
}

func describeLimits(got []LocalRateLimitReport) string {
	parts := []string{}
	for _, g := range got {
		ds := []string{}
		for _, d := range g.Descriptors {
			b := "no bucket"
			if d.Bucket != nil {
				b = fmt.Sprintf("bucket %d per %dms max %d", d.Bucket.TokensPerFill, d.Bucket.FillIntervalMillis, d.Bucket.MaxTokens)
			}
			ds = append(ds, fmt.Sprintf("[%s] %s", strings.Join(d.Entries, " "), b))
		}
		parts = append(parts, fmt.Sprintf("descriptors %s, max_dynamic_descriptors %d, enforced %v, before router %v", strings.Join(ds, "; "), g.MaxDynamicDescriptors, g.Enforced, g.BeforeRouter))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " | ")
}

func limitNames(want []ExpectedRateLimit) string {
	names := []string{}
	for _, w := range want {
		names = append(names, w.RateLimit)
	}
	return strings.Join(names, ", ")
}
