package conformance

import (
	"fmt"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbachttp "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	proxyprotocolv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/proxy_protocol/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacnetwork "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	customheaderv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/original_ip_detection/custom_header/v3"
	xffv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/original_ip_detection/xff/v3"
	upstreampp "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/proxy_protocol/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Envoy names that decide the client address.
const (
	hcmFilter           = "envoy.filters.network.http_connection_manager"
	proxyProtocolFilter = "envoy.filters.listener.proxy_protocol"
	originalSrcFilter   = "envoy.filters.listener.original_src"
	httpRBACFilter      = "envoy.filters.http.rbac"
	networkRBACFilter   = "envoy.filters.network.rbac"
	upstreamPROXYSocket = "envoy.transport_sockets.upstream_proxy_protocol"
	virtualInboundName  = "virtualInbound"
)

// ProxyReport is what istiod generated for one proxy, reduced to the fields that decide the client address.
type ProxyReport struct {
	Set       string           `json:"set"`
	Proxy     ProxySpec        `json:"proxy"`
	Listeners []ListenerReport `json:"listeners"`
	// Clusters lists only the clusters that send PROXY protocol upstream.
	Clusters []ClusterReport `json:"clusters"`
	// StatusPort is the health check listener of a gateway's bootstrap (nil for sidecars).
	StatusPort *StatusPortReport `json:"statusPort"`
	// GatewayAPI is the automated deployment istiod rendered for a Gateway API gateway (nil for other proxies).
	GatewayAPI *GatewayAPIReport `json:"gatewayApi"`
	// Routes are the RDS route configurations istiod builds for the proxy's listeners.
	Routes []RouteReport `json:"routes"`
	// StrayRateLimits names the chains of listeners left out of Listeners that have a local rate-limit filter.
	StrayRateLimits []string `json:"strayRateLimits"`
}

// ListenerReport is one Envoy listener.
type ListenerReport struct {
	Name string `json:"name"`
	Port uint32 `json:"port"`
	// ProxyProtocol is nil when the listener has no PROXY protocol listener filter.
	ProxyProtocol *ProxyProtocolReport `json:"proxyProtocol"`
	OriginalSrc   bool                 `json:"originalSrc"`
	Transparent   bool                 `json:"transparent"`
	Chains        []ChainReport        `json:"chains"`
}

// ProxyProtocolReport is the PROXY protocol listener filter's setting.
type ProxyProtocolReport struct {
	AllowRequestsWithoutProxyProtocol bool `json:"allowRequestsWithoutProxyProtocol"`
}

// ChainReport is one filter chain: the port it matches (0: any), its HCM and RBAC filters.
type ChainReport struct {
	Name            string     `json:"name"`
	DestinationPort uint32     `json:"destinationPort"`
	HCM             *HCMReport `json:"hcm"`
	RBAC            []RBACRule `json:"rbac"`
}

// HCMReport holds the HTTP connection manager's client address settings.
type HCMReport struct {
	UseRemoteAddress              bool        `json:"useRemoteAddress"`
	XffNumTrustedHops             uint32      `json:"xffNumTrustedHops"`
	SkipXffAppend                 bool        `json:"skipXffAppend"`
	OriginalIPDetectionExtensions []XffReport `json:"originalIpDetectionExtensions"`
	// HTTPFilters names the HTTP filters in order; LocalRateLimits reduces the local rate-limit ones (ratelimit.go).
	HTTPFilters     []string               `json:"httpFilters"`
	LocalRateLimits []LocalRateLimitReport `json:"localRateLimits"`
	// RDS is the route configuration's name when it comes by RDS; InlineRoute the inline one (nil with RDS).
	RDS         string       `json:"rds"`
	InlineRoute *RouteReport `json:"inlineRoute"`
}

// XffReport is one original IP detection extension.
type XffReport struct {
	Name              string   `json:"name"`
	XffNumTrustedHops uint32   `json:"xffNumTrustedHops"`
	TrustedCidrs      []string `json:"trustedCidrs"`
	SkipXffAppend     bool     `json:"skipXffAppend"`
	// HeaderName is the custom_header extension's header ("" for the xff one).
	HeaderName string `json:"headerName"`
}

// RBACRule is one CIDR in an RBAC filter's principals.
type RBACRule struct {
	Filter  string `json:"filter"`
	Action  string `json:"action"`
	Policy  string `json:"policy"`
	Field   string `json:"field"`
	CIDR    string `json:"cidr"`
	Negated bool   `json:"negated"`
	// Ports are the destination ports the policy's permissions name (empty: any port).
	Ports []uint32 `json:"ports"`
	// Conditions lists the other permission and principal matches of the policy (paths, methods, headers, ...).
	Conditions []string `json:"conditions"`
}

// ClusterReport is one cluster sending PROXY protocol.
type ClusterReport struct {
	Name                  string `json:"name"`
	UpstreamProxyProtocol string `json:"upstreamProxyProtocol"`
}

// ReportListener reduces one listener.
func ReportListener(l *listenerv3.Listener) (ListenerReport, error) {
	r := ListenerReport{Name: l.GetName(), Port: l.GetAddress().GetSocketAddress().GetPortValue(), Transparent: l.GetTransparent().GetValue()}
	for _, lf := range l.GetListenerFilters() {
		switch lf.GetName() {
		case proxyProtocolFilter:
			pp := &proxyprotocolv3.ProxyProtocol{}
			if err := unmarshal(lf.GetTypedConfig(), pp); err != nil {
				return r, fmt.Errorf("listener %s: %v", r.Name, err)
			}
			r.ProxyProtocol = &ProxyProtocolReport{AllowRequestsWithoutProxyProtocol: pp.GetAllowRequestsWithoutProxyProtocol()}
		case originalSrcFilter:
			r.OriginalSrc = true
		}
	}
	for _, fc := range l.GetFilterChains() {
		c, err := reportChain(fc)
		if err != nil {
			return r, fmt.Errorf("listener %s: %v", r.Name, err)
		}
		r.Chains = append(r.Chains, c)
	}
	return r, nil
}

func reportChain(fc *listenerv3.FilterChain) (ChainReport, error) {
	c := ChainReport{Name: fc.GetName(), DestinationPort: fc.GetFilterChainMatch().GetDestinationPort().GetValue(), RBAC: []RBACRule{}}
	for _, f := range fc.GetFilters() {
		switch f.GetName() {
		case hcmFilter:
			h := &hcmv3.HttpConnectionManager{}
			if err := unmarshal(f.GetTypedConfig(), h); err != nil {
				return c, err
			}
			report, rules, err := reportHCM(h)
			if err != nil {
				return c, err
			}
			c.HCM = report
			c.RBAC = append(c.RBAC, rules...)
		case networkRBACFilter:
			r := &rbacnetwork.RBAC{}
			if err := unmarshal(f.GetTypedConfig(), r); err != nil {
				return c, err
			}
			c.RBAC = append(c.RBAC, rbacRules("network", r.GetRules())...)
		}
	}
	return c, nil
}

func reportHCM(h *hcmv3.HttpConnectionManager) (*HCMReport, []RBACRule, error) {
	r := &HCMReport{
		UseRemoteAddress:              h.GetUseRemoteAddress().GetValue(),
		XffNumTrustedHops:             h.GetXffNumTrustedHops(),
		SkipXffAppend:                 h.GetSkipXffAppend(),
		OriginalIPDetectionExtensions: []XffReport{},
	}
	for _, ext := range h.GetOriginalIpDetectionExtensions() {
		x := XffReport{Name: ext.GetName(), TrustedCidrs: []string{}}
		custom := &customheaderv3.CustomHeaderConfig{}
		if err := unmarshal(ext.GetTypedConfig(), custom); err == nil {
			x.HeaderName = custom.GetHeaderName()
		}
		cfg := &xffv3.XffConfig{}
		if err := unmarshal(ext.GetTypedConfig(), cfg); err == nil {
			x.XffNumTrustedHops = cfg.GetXffNumTrustedHops()
			x.SkipXffAppend = cfg.GetSkipXffAppend().GetValue()
			for _, cidr := range cfg.GetXffTrustedCidrs().GetCidrs() {
				x.TrustedCidrs = append(x.TrustedCidrs, cidrText(cidr))
			}
		}
		r.OriginalIPDetectionExtensions = append(r.OriginalIPDetectionExtensions, x)
	}
	var err error
	if r.HTTPFilters, r.LocalRateLimits, err = reportHTTPFilters(h); err != nil {
		return nil, nil, err
	}
	r.RDS = h.GetRds().GetRouteConfigName()
	r.InlineRoute = reportRoute(h.GetRouteConfig())
	var rules []RBACRule
	for _, hf := range h.GetHttpFilters() {
		if hf.GetName() != httpRBACFilter {
			continue
		}
		rb := &rbachttp.RBAC{}
		if err := unmarshal(hf.GetTypedConfig(), rb); err != nil {
			return nil, nil, err
		}
		rules = append(rules, rbacRules("http", rb.GetRules())...)
	}
	return r, rules, nil
}

// rbacRules flattens the CIDR principals of enforced (not shadow) rules.
func rbacRules(filter string, rules *rbacv3.RBAC) []RBACRule {
	var out []RBACRule
	if rules == nil {
		return out
	}
	for _, name := range sortedKeys(rules.GetPolicies()) {
		policy := rules.GetPolicies()[name]
		ports, conditions := []uint32{}, []string{}
		for _, perm := range policy.GetPermissions() {
			walkPermission(perm, &ports, &conditions)
		}
		var found []RBACRule
		for _, p := range policy.GetPrincipals() {
			walkPrincipal(p, false, func(field, cidr string, negated bool) {
				found = append(found, RBACRule{Filter: filter, Action: rules.GetAction().String(), Policy: name, Field: field, CIDR: cidr, Negated: negated})
			}, &conditions)
		}
		for _, r := range found {
			r.Ports, r.Conditions = ports, conditions
			out = append(out, r)
		}
	}
	return out
}

// walkPermission collects the destination ports of a permission and names every other match it makes.
func walkPermission(p *rbacv3.Permission, ports *[]uint32, conditions *[]string) {
	switch r := p.GetRule().(type) {
	case *rbacv3.Permission_AndRules:
		for _, q := range r.AndRules.GetRules() {
			walkPermission(q, ports, conditions)
		}
	case *rbacv3.Permission_OrRules:
		for _, q := range r.OrRules.GetRules() {
			walkPermission(q, ports, conditions)
		}
	case *rbacv3.Permission_DestinationPort:
		*ports = append(*ports, r.DestinationPort)
	case *rbacv3.Permission_Any:
	case nil:
	default:
		*conditions = append(*conditions, fmt.Sprintf("permission %T", r))
	}
}

func walkPrincipal(p *rbacv3.Principal, negated bool, add func(field, cidr string, negated bool), conditions *[]string) {
	switch id := p.GetIdentifier().(type) {
	case *rbacv3.Principal_AndIds:
		for _, q := range id.AndIds.GetIds() {
			walkPrincipal(q, negated, add, conditions)
		}
	case *rbacv3.Principal_OrIds:
		for _, q := range id.OrIds.GetIds() {
			walkPrincipal(q, negated, add, conditions)
		}
	case *rbacv3.Principal_NotId:
		walkPrincipal(id.NotId, !negated, add, conditions)
	case *rbacv3.Principal_Any, nil:
	case *rbacv3.Principal_RemoteIp:
		add("remote_ip", cidrText(id.RemoteIp), negated)
	case *rbacv3.Principal_DirectRemoteIp:
		add("direct_remote_ip", cidrText(id.DirectRemoteIp), negated)
	case *rbacv3.Principal_SourceIp: //nolint:staticcheck // istiod should never emit it; report it if it does
		add("source_ip", cidrText(id.SourceIp), negated)
	default:
		*conditions = append(*conditions, fmt.Sprintf("principal %T", id))
	}
}

// ReportCluster returns the cluster's upstream PROXY protocol version, or "" when it sends none.
func ReportCluster(c *clusterv3.Cluster) (string, error) {
	sockets := []*corev3.TransportSocket{c.GetTransportSocket()}
	for _, m := range c.GetTransportSocketMatches() {
		sockets = append(sockets, m.GetTransportSocket())
	}
	for _, s := range sockets {
		if s.GetName() != upstreamPROXYSocket {
			continue
		}
		pp := &upstreampp.ProxyProtocolUpstreamTransport{}
		if err := unmarshal(s.GetTypedConfig(), pp); err != nil {
			return "", fmt.Errorf("cluster %s: %v", c.GetName(), err)
		}
		return pp.GetConfig().GetVersion().String(), nil
	}
	return "", nil
}

func cidrText(c *corev3.CidrRange) string {
	return fmt.Sprintf("%s/%d", c.GetAddressPrefix(), c.GetPrefixLen().GetValue())
}

func unmarshal(a *anypb.Any, into proto.Message) error {
	if a == nil {
		return nil
	}
	return a.UnmarshalTo(into)
}

func sortListeners(ls []ListenerReport) {
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
}
