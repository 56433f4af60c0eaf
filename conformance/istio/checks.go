package conformance

import (
	"fmt"
	"net/netip"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"
)

// rootNamespace is the mesh's default root namespace: EnvoyFilters and AuthorizationPolicies there apply mesh-wide.
const rootNamespace = "istio-system"

// SetResult is the outcome for one object set.
type SetResult struct {
	Set        string             `json:"set"`
	Validation []ValidationResult `json:"validation"`
	// Checks counts the assertions evaluated; Failures lists the ones that did not hold.
	Checks   int      `json:"checks"`
	Failures []string `json:"failures"`
	// Notes lists what the set could not exercise (for example an EnvoyFilter whose workload is not in the set).
	Notes   []string      `json:"notes"`
	Proxies []ProxyReport `json:"-"`
	// Ztunnel is ztunnel's authorization in an ambient set (nil otherwise).
	Ztunnel *ZtunnelReport `json:"-"`
}

// ValidationResult is what Istio's validation said about one object.
type ValidationResult struct {
	Object   string   `json:"object"`
	Warnings []string `json:"warnings"`
	Error    string   `json:"error,omitempty"`
}

type checker struct {
	set  *ObjectSet
	gens []Generated
	res  *SetResult
}

func (c *checker) check(ok bool, format string, args ...any) bool {
	c.res.Checks++
	if !ok {
		c.res.Failures = append(c.res.Failures, fmt.Sprintf(format, args...))
	}
	return ok
}

func (c *checker) note(format string, args ...any) {
	c.res.Notes = append(c.res.Notes, fmt.Sprintf(format, args...))
}

// Validate runs the validation istiod's webhook runs on every Istio object (warnings included).
func Validate(set *ObjectSet) []ValidationResult {
	out := []ValidationResult{}
	for _, o := range set.Istio {
		r := ValidationResult{Object: o.Doc.Ref(), Warnings: []string{}}
		if o.Err != nil {
			r.Error = o.Err.Error()
		} else {
			warn, err := o.Schema.ValidateConfig(*o.Config)
			if err != nil {
				r.Error = err.Error()
			}
			r.Warnings = append(r.Warnings, messages(warn)...)
		}
		out = append(out, r)
	}
	return out
}

// genericEnvoyFilterWarning is the notice Istio attaches to every EnvoyFilter; any other warning fails the set.
const genericEnvoyFilterWarning = "EnvoyFilter exposes internal implementation details"

// messages splits a (multi)error into its messages.
func messages(err error) []string {
	if err == nil {
		return nil
	}
	if multi, ok := err.(interface{ WrappedErrors() []error }); ok {
		var out []string
		for _, e := range multi.WrappedErrors() {
			out = append(out, messages(e)...)
		}
		return out
	}
	return []string{err.Error()}
}

// envoyFilters asserts that every patch of every EnvoyFilter shows in the configuration of each proxy it selects:
// a LISTENER_FILTER is present on every listener its match names, and a MERGE's fields are visible in every
// filter it matches. A patch whose match selects nothing is a failure: Istio silently ignores it.
func (c *checker) envoyFilters() {
	for _, o := range c.set.Istio {
		if o.Err != nil {
			continue
		}
		ef, ok := o.Config.Spec.(*networking.EnvoyFilter)
		if !ok {
			continue
		}
		ref := o.Doc.Ref()
		targets := c.selected(o.Config.Namespace, ef.GetWorkloadSelector().GetLabels(), ef.GetTargetRefs())
		if len(targets) == 0 {
			c.dead(ref, "selects no proxy of the set")
			continue
		}
		c.liveButExpectedDead(ref, targets)
		for i, cp := range ef.GetConfigPatches() {
			where := fmt.Sprintf("%s patch %d (%s %s)", ref, i, cp.GetApplyTo(), cp.GetPatch().GetOperation())
			exercised := false
			for _, g := range targets {
				if !inContext(g, cp.GetMatch().GetContext()) {
					continue
				}
				exercised = true
				switch {
				case cp.GetApplyTo() == networking.EnvoyFilter_LISTENER_FILTER && inserts(cp.GetPatch().GetOperation()):
					c.listenerFilterPresent(where, g, cp)
				case cp.GetApplyTo() == networking.EnvoyFilter_NETWORK_FILTER && cp.GetPatch().GetOperation() == networking.EnvoyFilter_Patch_MERGE:
					c.mergedIntoNetworkFilters(where, g, cp)
				case c.set.Expectations != nil && (isRateLimitPatch(cp) || isClientHeaderPatch(cp)):
					// compareRateLimits (ratelimit.go) and compareClientHeader (header.go) check its effect on every proxy
					// against the trace's rate limits and client-address header.
				default:
					c.note("%s: the effect of this kind of patch is not checked", where)
				}
			}
			if !exercised {
				c.dead(fmt.Sprintf("%s patch %d", ref, i), fmt.Sprintf("applies in no context: no proxy it selects is in context %s", cp.GetMatch().GetContext()))
			}
		}
	}
}

func inserts(op networking.EnvoyFilter_Patch_Operation) bool {
	switch op {
	case networking.EnvoyFilter_Patch_ADD, networking.EnvoyFilter_Patch_INSERT_FIRST,
		networking.EnvoyFilter_Patch_INSERT_BEFORE, networking.EnvoyFilter_Patch_INSERT_AFTER:
		return true
	}
	return false
}

// selected returns the proxies a namespaced resource applies to: by selector (root namespace: all), or by
// targetRefs, which attach to Gateway API gateways (kind Gateway, same namespace) and never to sidecars or
// classic gateways.
func (c *checker) selected(ns string, selector map[string]string, targetRefs []*typev1beta1.PolicyTargetReference) []Generated {
	if len(targetRefs) > 0 {
		return c.targeted(ns, targetRefs)
	}
	var out []Generated
	for _, g := range c.gens {
		// Waypoints never use a selector (model.WorkloadPolicyMatcher.ShouldAttachPolicy).
		if (ns == g.Spec.Namespace || ns == rootNamespace) && selects(selector, g.Spec.Labels) && g.Spec.Type != waypointType {
			out = append(out, g)
		}
	}
	return out
}

func (c *checker) targeted(ns string, refs []*typev1beta1.PolicyTargetReference) []Generated {
	var out []Generated
	for _, g := range c.gens {
		for _, ref := range refs {
			gw := g.Spec.gatewayAPI
			refNs := ref.GetNamespace()
			if refNs == "" {
				refNs = ns
			}
			if gw != nil && ref.GetGroup() == gatewayAPIGroup && ref.GetKind() == "Gateway" && ref.GetName() == gw.Name && refNs == gw.Namespace ||
				servedByWaypoint(g, ref, refNs) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

func inContext(g Generated, ctx networking.EnvoyFilter_PatchContext) bool {
	switch ctx {
	case networking.EnvoyFilter_GATEWAY:
		return g.Spec.Type == "Router"
	case networking.EnvoyFilter_SIDECAR_INBOUND, networking.EnvoyFilter_SIDECAR_OUTBOUND:
		return g.Spec.Type == "Sidecar"
	}
	return true
}

// contextListeners are the listeners a patch context covers: all of a gateway's, virtualInbound for inbound.
func contextListeners(g Generated, ctx networking.EnvoyFilter_PatchContext) []*listenerv3.Listener {
	var out []*listenerv3.Listener
	for _, l := range g.Listeners {
		inbound := l.GetName() == virtualInboundName
		if ctx == networking.EnvoyFilter_SIDECAR_INBOUND && !inbound || ctx == networking.EnvoyFilter_SIDECAR_OUTBOUND && inbound {
			continue
		}
		out = append(out, l)
	}
	return out
}

func port(l *listenerv3.Listener) uint32 { return l.GetAddress().GetSocketAddress().GetPortValue() }

// listenerFilterPresent: the patch means the listener on its portNumber (and name); that listener must exist
// and carry the filter.
func (c *checker) listenerFilterPresent(where string, g Generated, cp *networking.EnvoyFilter_EnvoyConfigObjectPatch) {
	name, _ := cp.GetPatch().GetValue().AsMap()["name"].(string)
	lm := cp.GetMatch().GetListener()
	matched := 0
	for _, l := range contextListeners(g, cp.GetMatch().GetContext()) {
		if lm.GetName() != "" && lm.GetName() != l.GetName() || lm.GetPortNumber() != 0 && lm.GetPortNumber() != port(l) {
			continue
		}
		matched++
		c.check(hasListenerFilter(l, name), "%s: listener %s of %s lacks %s", where, l.GetName(), proxyName(g), name)
	}
	c.check(matched > 0, "%s: matches no listener of %s (portNumber %d, name %q); listeners: %s",
		where, proxyName(g), lm.GetPortNumber(), lm.GetName(), listenerNames(contextListeners(g, cp.GetMatch().GetContext())))
}

func hasListenerFilter(l *listenerv3.Listener, name string) bool {
	for _, f := range l.GetListenerFilters() {
		if f.GetName() == name {
			return true
		}
	}
	return false
}

// mergedIntoNetworkFilters: every filter the match selects must show the patch's typed_config fields.
func (c *checker) mergedIntoNetworkFilters(where string, g Generated, cp *networking.EnvoyFilter_EnvoyConfigObjectPatch) {
	value := cp.GetPatch().GetValue().AsMap()
	want := value["typed_config"]
	if want == nil {
		want = value["typedConfig"]
	}
	if want == nil {
		c.note("%s: no typed_config to compare", where)
		return
	}
	lm := cp.GetMatch().GetListener()
	filterName := lm.GetFilterChain().GetFilter().GetName()
	matched := 0
	for _, l := range contextListeners(g, cp.GetMatch().GetContext()) {
		virtual := l.GetName() == virtualInboundName
		if lm.GetName() != "" && lm.GetName() != l.GetName() || !virtual && lm.GetPortNumber() != 0 && lm.GetPortNumber() != port(l) {
			continue
		}
		for _, fc := range l.GetFilterChains() {
			if !chainMatches(fc, lm, virtual) {
				continue
			}
			for _, f := range fc.GetFilters() {
				if filterName != "" && f.GetName() != filterName {
					continue
				}
				got, err := protoMap(f.GetTypedConfig())
				if err != nil || got["@type"] != stringField(want, "@type") {
					continue
				}
				matched++
				c.check(subset(want, got), "%s: %s chain %s of %s does not show the merged fields %s", where, l.GetName(), fc.GetName(), proxyName(g), compact(want))
			}
		}
	}
	c.check(matched > 0, "%s: matches no %s filter of %s (portNumber %d)", where, filterName, proxyName(g), lm.GetPortNumber())
}

func chainMatches(fc *listenerv3.FilterChain, lm *networking.EnvoyFilter_ListenerMatch, virtual bool) bool {
	dport := fc.GetFilterChainMatch().GetDestinationPort().GetValue()
	if virtual && lm.GetPortNumber() != 0 && dport != lm.GetPortNumber() {
		return false
	}
	m := lm.GetFilterChain()
	if m.GetName() != "" && m.GetName() != fc.GetName() {
		return false
	}
	if m.GetDestinationPort() != 0 && m.GetDestinationPort() != dport {
		return false
	}
	if m.GetTransportProtocol() != "" && m.GetTransportProtocol() != fc.GetFilterChainMatch().GetTransportProtocol() {
		return false
	}
	return true
}

// policies asserts that each CIDR of each AuthorizationPolicy reaches the RBAC filters of every proxy it selects,
// with the policy's action, on direct_remote_ip for ipBlocks and remote_ip for remoteIpBlocks, and never on the other.
func (c *checker) policies(reports map[string]ProxyReport) {
	for _, o := range c.set.Istio {
		if o.Err != nil {
			continue
		}
		ap, ok := o.Config.Spec.(*security.AuthorizationPolicy)
		if !ok || (ap.GetAction() != security.AuthorizationPolicy_ALLOW && ap.GetAction() != security.AuthorizationPolicy_DENY) {
			continue
		}
		ref := o.Doc.Ref()
		targets := c.selected(o.Config.Namespace, ap.GetSelector().GetMatchLabels(), policyTargetRefs(ap))
		if len(targets) == 0 && c.ztunnelBound(o.Config.Namespace, o.Config.Name) {
			continue // ztunnel enforces it: checked by c.ztunnel
		}
		if len(targets) == 0 {
			c.dead(ref, "selects no proxy of the set")
			continue
		}
		c.liveButExpectedDead(ref, targets)
		for _, g := range targets {
			for _, l := range enforcingListeners(g, reports[proxyName(g)]) {
				rules := listenerRules(l)
				for _, want := range expectedRules(ap) {
					found, wrongField := false, false
					for _, r := range rules {
						if r.CIDR != want.CIDR || r.Negated != want.Negated {
							continue
						}
						found = found || r.Field == want.Field && r.Action == want.Action
						wrongField = wrongField || r.Field != want.Field
					}
					c.check(found, "%s: %s %s (negated %v) is not an RBAC %s principal on listener %s of %s",
						ref, want.Field, want.CIDR, want.Negated, want.Action, l.Name, proxyName(g))
					c.check(!wrongField, "%s: %s also lands on the other address field on listener %s of %s", ref, want.CIDR, l.Name, proxyName(g))
				}
			}
		}
	}
}

// enforcingListeners are the listeners a policy must reach: every listener of a gateway, a sidecar's inbound.
func enforcingListeners(g Generated, r ProxyReport) []ListenerReport {
	var out []ListenerReport
	for _, l := range r.Listeners {
		if g.Spec.Type == "Router" || l.Name == virtualInboundName || g.Spec.Type == waypointType && l.Name == waypointInternalListener {
			out = append(out, l)
		}
	}
	return out
}

// policyTargetRefs is a policy's targetRefs, with the deprecated single targetRef.
func policyTargetRefs(ap *security.AuthorizationPolicy) []*typev1beta1.PolicyTargetReference {
	refs := ap.GetTargetRefs()
	if ap.GetTargetRef() != nil {
		refs = append(refs, ap.GetTargetRef())
	}
	return refs
}

func expectedRules(ap *security.AuthorizationPolicy) []RBACRule {
	var out []RBACRule
	add := func(cidrs []string, field string, negated bool) {
		for _, text := range cidrs {
			out = append(out, RBACRule{Action: ap.GetAction().String(), Field: field, CIDR: maskedCIDR(text), Negated: negated})
		}
	}
	for _, rule := range ap.GetRules() {
		for _, from := range rule.GetFrom() {
			s := from.GetSource()
			add(s.GetIpBlocks(), "direct_remote_ip", false)
			add(s.GetNotIpBlocks(), "direct_remote_ip", true)
			add(s.GetRemoteIpBlocks(), "remote_ip", false)
			add(s.GetNotRemoteIpBlocks(), "remote_ip", true)
		}
	}
	return out
}

func maskedCIDR(text string) string {
	if !strings.Contains(text, "/") {
		if a, err := netip.ParseAddr(text); err == nil {
			return netip.PrefixFrom(a, a.BitLen()).String()
		}
		return text
	}
	p, err := netip.ParsePrefix(text)
	if err != nil {
		return text
	}
	return p.Masked().String()
}

func listenerRules(l ListenerReport) []RBACRule {
	var out []RBACRule
	for _, ch := range l.Chains {
		for _, rule := range ch.RBAC {
			rule.CIDR = maskedCIDR(rule.CIDR)
			out = append(out, rule)
		}
	}
	return out
}

// interception asserts that a TPROXY sidecar's inbound listener is transparent and restores the original
// source (original_src), and that a REDIRECT one does neither.
func (c *checker) interception(reports map[string]ProxyReport) {
	for _, g := range c.gens {
		if g.Spec.Type != "Sidecar" {
			continue
		}
		var inbound *ListenerReport
		for i, l := range reports[proxyName(g)].Listeners {
			if l.Name == virtualInboundName {
				inbound = &reports[proxyName(g)].Listeners[i]
			}
		}
		if inbound == nil {
			c.check(g.Spec.InterceptionMode == "NONE", "%s has no %s listener", proxyName(g), virtualInboundName)
			continue
		}
		tproxy := g.Spec.InterceptionMode == "TPROXY"
		c.check(inbound.OriginalSrc == tproxy, "%s (interception %s): original_src on %s is %v", proxyName(g), g.Spec.InterceptionMode, virtualInboundName, inbound.OriginalSrc)
		c.check(inbound.Transparent == tproxy, "%s (interception %s): transparent on %s is %v", proxyName(g), g.Spec.InterceptionMode, virtualInboundName, inbound.Transparent)
	}
}

// gatewayTopology asserts that the resolved ProxyConfig reaches each gateway listener: use_remote_address on every
// HCM, xff_num_trusted_hops equal to numTrustedProxies (unless an EnvoyFilter merges into the HCM), and the PROXY
// listener filter on every TCP listener when gatewayTopology.proxyProtocol is set.
func (c *checker) gatewayTopology(reports map[string]ProxyReport, hcmPatched map[string]bool) {
	for _, g := range c.gens {
		if g.Spec.Type != "Router" {
			continue
		}
		r := reports[proxyName(g)]
		c.check(len(r.Listeners) > 0, "gateway %s has no listener: no Gateway server selects it", proxyName(g))
		for _, l := range r.Listeners {
			if g.Spec.ProxyProtocol {
				c.check(l.ProxyProtocol != nil, "gateway %s: gatewayTopology.proxyProtocol is set but listener %s has no %s", proxyName(g), l.Name, proxyProtocolFilter)
			}
			for _, ch := range l.Chains {
				if ch.HCM == nil {
					continue
				}
				c.check(ch.HCM.UseRemoteAddress, "gateway %s listener %s: use_remote_address is false", proxyName(g), l.Name)
				if !hcmPatched[proxyName(g)] {
					c.check(ch.HCM.XffNumTrustedHops == g.Spec.NumTrustedProxies, "gateway %s listener %s: xff_num_trusted_hops %d, gatewayTopology.numTrustedProxies %d",
						proxyName(g), l.Name, ch.HCM.XffNumTrustedHops, g.Spec.NumTrustedProxies)
				}
			}
		}
	}
}

// statusPort asserts that ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL on a gateway's istio-proxy reaches the status
// listener of its bootstrap, where health checks then pass with and without a PROXY header.
func (c *checker) statusPort(g Generated, r *StatusPortReport) {
	if r == nil {
		return
	}
	if g.Spec.StatusPortProxyProtocol {
		c.check(r.ProxyProtocol != nil && r.ProxyProtocol.AllowRequestsWithoutProxyProtocol,
			"gateway %s sets ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL, but status port %d accepts PROXY: %+v", proxyName(g), r.Port, r.ProxyProtocol)
	} else {
		c.check(r.ProxyProtocol == nil, "gateway %s: status port %d has a PROXY filter without ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL", proxyName(g), r.Port)
	}
}

// proxyProtocolPairs asserts both ends of PROXY protocol inside the set: a DestinationRule's proxyProtocol must
// reach the clusters of its host, and each sidecar behind that host must accept PROXY on its inbound listener;
// a sidecar that requires PROXY must have a sender in the set.
func (c *checker) proxyProtocolPairs(reports map[string]ProxyReport) {
	senders := map[string]bool{} // proxyName of backends that receive PROXY from a cluster of the set
	for _, o := range c.set.Istio {
		if o.Err != nil {
			continue
		}
		dr, ok := o.Config.Spec.(*networking.DestinationRule)
		if !ok || dr.GetTrafficPolicy().GetProxyProtocol() == nil {
			continue
		}
		ref := o.Doc.Ref()
		host := fqdn(dr.GetHost(), o.Config.Namespace)
		version := dr.GetTrafficPolicy().GetProxyProtocol().GetVersion().String()
		clusters := 0
		for _, g := range c.gens {
			for _, cl := range g.Clusters {
				if !strings.HasPrefix(cl.GetName(), "outbound|") || !strings.HasSuffix(cl.GetName(), "|"+host) {
					continue
				}
				clusters++
				v, err := ReportCluster(cl)
				c.check(err == nil && v == version, "%s: cluster %s of %s sends PROXY %q, want %s", ref, cl.GetName(), proxyName(g), v, version)
			}
		}
		if clusters == 0 {
			c.note("%s: no proxy of the set has a cluster for %s (its Service is not in the set)", ref, host)
			continue
		}
		for _, g := range c.backends(host) {
			senders[proxyName(g)] = true
			c.check(inboundProxyProtocol(reports[proxyName(g)]) != nil, "%s sends PROXY to %s, but the sidecar of %s does not accept PROXY on %s",
				ref, host, proxyName(g), virtualInboundName)
		}
	}
	for _, g := range c.gens {
		pp := inboundProxyProtocol(reports[proxyName(g)])
		if g.Spec.Type != "Sidecar" || pp == nil || pp.AllowRequestsWithoutProxyProtocol {
			continue
		}
		c.check(senders[proxyName(g)], "the sidecar of %s requires PROXY on %s, but no DestinationRule of the set sends PROXY to a Service that selects it",
			proxyName(g), virtualInboundName)
	}
}

// backends returns the sidecars a Service host selects.
func (c *checker) backends(host string) []Generated {
	var out []Generated
	for _, d := range c.set.Docs {
		if d.APIVersion() != "v1" || d.Kind() != "Service" || fqdn(nameOf(d.Object), namespaceOf(d.Object)) != host {
			continue
		}
		spec, _ := d.Object["spec"].(map[string]any)
		selector := stringMap(spec["selector"])
		if len(selector) == 0 {
			continue
		}
		for _, g := range c.gens {
			if g.Spec.Type == "Sidecar" && g.Spec.Namespace == namespaceOf(d.Object) && selects(selector, g.Spec.Labels) {
				out = append(out, g)
			}
		}
	}
	return out
}

func inboundProxyProtocol(r ProxyReport) *ProxyProtocolReport {
	for _, l := range r.Listeners {
		if l.Name == virtualInboundName {
			return l.ProxyProtocol
		}
	}
	return nil
}

func fqdn(host, ns string) string {
	if strings.Contains(host, ".") {
		return host
	}
	return host + "." + ns + ".svc.cluster.local"
}

func proxyName(g Generated) string { return g.Spec.Namespace + "/" + g.Spec.Name }

func listenerNames(ls []*listenerv3.Listener) string {
	names := make([]string, 0, len(ls))
	for _, l := range ls {
		names = append(names, l.GetName())
	}
	return strings.Join(names, ", ")
}
