package conformance

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ExpectationsFile is written next to a set's objects by the library's trace (test/conformance/expectations.ts): what
// istiod must generate for each proxy, computed from the model the constructs declare, never from the YAML under test.
const ExpectationsFile = "expectations.json"

// Expectations is what the library's trace says istiod must generate for the set.
type Expectations struct {
	From    string          `json:"from"`
	Proxies []ExpectedProxy `json:"proxies"`
	Dead    []ExpectedDead  `json:"dead"`
}

// ExpectedDead names an object of the set that reaches no proxy of the stage, with the reason that is right.
type ExpectedDead struct {
	Object string `json:"object"`
	Reason string `json:"reason"`
}

// ExpectedHCM is an HTTP connection manager's client-address settings.
type ExpectedHCM struct {
	UseRemoteAddress bool `json:"useRemoteAddress"`
	// XffNumTrustedHops is -1 when not compared (an installed gateway runs with the cluster's ProxyConfig).
	XffNumTrustedHops int      `json:"xffNumTrustedHops"`
	Detection         string   `json:"detection"`
	TrustedCidrs      []string `json:"trustedCidrs"`
	// HeaderName is the custom_header extension's header (lower case); "" when not compared.
	HeaderName string `json:"headerName"`
}

// ExpectedRBAC is one AuthorizationPolicy as RBAC must show it on a proxy.
type ExpectedRBAC struct {
	Policy             string   `json:"policy"`
	Action             string   `json:"action"`
	Field              string   `json:"field"`
	Negated            bool     `json:"negated"`
	Cidrs              []string `json:"cidrs"`
	Ports              []uint32 `json:"ports"`
	ConditionsCompared bool     `json:"conditionsCompared"`
	Listeners          []string `json:"listeners"`
}

// ExpectedListener is a gateway listener and its PROXY listener filter (none, optional or strict).
type ExpectedListener struct {
	Port          uint32 `json:"port"`
	ProxyProtocol string `json:"proxyProtocol"`
}

// ExpectedRateLimit is a per-client rate limit the trace places on a proxy (ratelimit.go compares it).
type ExpectedRateLimit struct {
	RateLimit             string `json:"rateLimit"`
	TokensPerFill         uint32 `json:"tokensPerFill"`
	MaxTokens             uint32 `json:"maxTokens"`
	FillIntervalMillis    int64  `json:"fillIntervalMillis"`
	MaxDynamicDescriptors uint32 `json:"maxDynamicDescriptors"`
}

// ExpectedService is the Service in front of a gateway.
type ExpectedService struct {
	Name                  string `json:"name"`
	ExternalTrafficPolicy string `json:"externalTrafficPolicy"`
}

// ExpectedProxy is what one proxy must get.
type ExpectedProxy struct {
	Namespace               string                 `json:"namespace"`
	Name                    string                 `json:"name"`
	Labels                  map[string]string      `json:"labels"`
	Role                    string                 `json:"role"`
	Installed               bool                   `json:"installed"`
	Source                  string                 `json:"source"`
	Listeners               []ExpectedListener     `json:"listeners"`
	StatusPortProxyProtocol string                 `json:"statusPortProxyProtocol"`
	Service                 *ExpectedService       `json:"service"`
	HCM                     *ExpectedHCM           `json:"hcm"`
	InterceptionMode        string                 `json:"interceptionMode"`
	InboundProxyProtocol    string                 `json:"inboundProxyProtocol"`
	InboundHCM              *ExpectedHCM           `json:"inboundHcm"`
	HCMByPort               map[string]ExpectedHCM `json:"hcmByPort"`
	RBAC                    []ExpectedRBAC         `json:"rbac"`
	RateLimits              []ExpectedRateLimit    `json:"rateLimits"`
	// ClientAddressHeader is the header the proxy writes from the client address ("" for none; header.go).
	ClientAddressHeader string `json:"clientAddressHeader"`
}

// LoadExpectations reads dir/expectations.json; nil when the set has none (the testdata sets).
func LoadExpectations(dir string) (*Expectations, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ExpectationsFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e := &Expectations{}
	if err := json.Unmarshal(raw, e); err != nil {
		return nil, fmt.Errorf("%s: %v", ExpectationsFile, err)
	}
	return e, nil
}

// dead records an object that reaches no proxy: a failure unless the expectations name it, with a reason.
func (c *checker) dead(object, what string) {
	if c.set.Expectations == nil {
		c.note("%s %s", object, what)
		return
	}
	for _, d := range c.set.Expectations.Dead {
		if d.Object == object {
			c.note("%s %s, as expected: %s", object, what, d.Reason)
			return
		}
	}
	c.check(false, "%s %s: dead configuration the trace does not expect (%s names no such object)", object, what, ExpectationsFile)
}

// liveButExpectedDead fails an object the expectations call dead that reaches a proxy after all: the trace's
// expectation is wrong, and what the object does there is compared nowhere.
func (c *checker) liveButExpectedDead(object string, proxies []Generated) {
	if c.set.Expectations == nil || len(proxies) == 0 {
		return
	}
	for _, d := range c.set.Expectations.Dead {
		if d.Object == object {
			names := make([]string, 0, len(proxies))
			for _, g := range proxies {
				names = append(names, proxyName(g))
			}
			c.check(false, "%s is expected dead (%s) but reaches %s: the trace's expectation is wrong", object, d.Reason, strings.Join(names, ", "))
		}
	}
}

// compareExpectations compares istiod's output with the trace's expectations: a proxy missing, extra or different fails.
func (c *checker) compareExpectations(reports map[string]ProxyReport) {
	e := c.set.Expectations
	if e == nil {
		return
	}
	matched := map[string]bool{}
	for _, want := range e.Proxies {
		key, ok := c.reportFor(want, reports, matched)
		where := fmt.Sprintf("%s %s/%s (%s)", want.Role, want.Namespace, want.Name, want.Source)
		if !c.check(ok, "%s: istiod configured no such proxy; proxies: %s", where, strings.Join(sortedKeys(reports), ", ")) {
			continue
		}
		matched[key] = true
		r := reports[key]
		if want.Role == "gateway" {
			c.compareGateway(where, want, r)
		} else {
			c.compareSidecar(where, want, r)
		}
		c.compareRBAC(where, want, r)
		c.compareRateLimits(where, want.RateLimits, r)
		c.compareClientHeader(where, want.ClientAddressHeader, r)
	}
	for _, key := range sortedKeys(reports) {
		r := reports[key]
		if !matched[key] && isWaypoint(r) {
			// The library puts no rate limit on a waypoint (istiod applies no WAYPOINT-context patch).
			c.compareRateLimits(fmt.Sprintf("waypoint %s", key), nil, r)
			c.compareClientHeader(fmt.Sprintf("waypoint %s", key), "", r)
		}
		if !matched[key] && !isWaypoint(r) {
			c.check(false, "%s %s (%s): istiod configured a proxy the trace does not expect", r.Proxy.Type, key, r.Proxy.Source)
		}
	}
}

// isWaypoint: ambient waypoints are compared by their own expectations (class istio-waypoint), not these.
func isWaypoint(r ProxyReport) bool {
	return r.Proxy.Labels["gateway.istio.io/managed"] == "istio.io-mesh-controller" || r.Proxy.Labels["gateway.networking.k8s.io/gateway-class-name"] == "istio-waypoint"
}

func (c *checker) reportFor(want ExpectedProxy, reports map[string]ProxyReport, matched map[string]bool) (string, bool) {
	key := want.Namespace + "/" + want.Name
	if _, ok := reports[key]; ok && !matched[key] {
		return key, true
	}
	if want.Role != "gateway" {
		return "", false
	}
	for _, k := range sortedKeys(reports) {
		r := reports[k]
		if !matched[k] && r.Proxy.Type == "Router" && r.Proxy.Namespace == want.Namespace && len(want.Labels) > 0 && selects(want.Labels, r.Proxy.Labels) {
			return k, true
		}
	}
	return "", false
}

func ppMode(p *ProxyProtocolReport) string {
	switch {
	case p == nil:
		return "none"
	case p.AllowRequestsWithoutProxyProtocol:
		return "optional"
	}
	return "strict"
}

func (c *checker) compareGateway(where string, want ExpectedProxy, r ProxyReport) {
	c.check(r.Proxy.Type == "Router", "%s: istiod configured a %s", where, r.Proxy.Type)
	c.check(len(r.Listeners) > 0, "%s: istiod generated no listener", where)
	if !want.Installed {
		var got, exp []string
		for _, l := range r.Listeners {
			got = append(got, strconv.Itoa(int(l.Port)))
		}
		byPort := map[uint32]string{}
		for _, l := range want.Listeners {
			exp = append(exp, strconv.Itoa(int(l.Port)))
			byPort[l.Port] = l.ProxyProtocol
		}
		exp = slices.DeleteFunc(exp, func(port string) bool {
			if slices.Contains(got, port) || r.GatewayAPI == nil {
				return false
			}
			secret := c.missingCertificate(r.GatewayAPI.Gateway, port)
			if secret != "" {
				c.note("%s: no listener on port %s: its certificate Secret %s is not in the set (istiod drops the listener; the cluster has the Secret)", where, port, secret)
			}
			return secret != ""
		})
		sort.Strings(got)
		sort.Strings(exp)
		c.check(slices.Equal(got, exp), "%s: listener ports [%s], the trace expects [%s]", where, strings.Join(got, " "), strings.Join(exp, " "))
		for _, l := range r.Listeners {
			if w, ok := byPort[l.Port]; ok {
				c.check(ppMode(l.ProxyProtocol) == w, "%s: listener %s: PROXY protocol %s, the trace expects %s", where, l.Name, ppMode(l.ProxyProtocol), w)
			}
		}
	}
	if want.StatusPortProxyProtocol != "" && c.check(r.StatusPort != nil, "%s: no status port in pilot-agent's bootstrap", where) {
		got := ppMode(r.StatusPort.ProxyProtocol)
		c.check(got == want.StatusPortProxyProtocol, "%s: status port %d: PROXY protocol %s, the trace expects %s", where, r.StatusPort.Port, got, want.StatusPortProxyProtocol)
	}
	if want.Service != nil {
		etp, found := c.serviceETP(want, r)
		if c.check(found, "%s: no Service %s in the set (nor rendered by istiod)", where, want.Service.Name) {
			c.check(etp == want.Service.ExternalTrafficPolicy, "%s: Service %s: externalTrafficPolicy %s, the trace expects %s", where, want.Service.Name, etp, want.Service.ExternalTrafficPolicy)
		}
	}
	for _, l := range r.Listeners {
		for _, ch := range l.Chains {
			if ch.HCM != nil && want.HCM != nil {
				c.compareHCM(fmt.Sprintf("%s: listener %s chain %q", where, l.Name, ch.Name), *want.HCM, ch.HCM)
			}
		}
	}
}

// serviceETP is the externalTrafficPolicy of the gateway's Service: the one istiod rendered for a Gateway API
// gateway, else the set's Service of that name, with the API server's default (Cluster) when the field is absent.
func (c *checker) serviceETP(want ExpectedProxy, r ProxyReport) (string, bool) {
	if r.GatewayAPI != nil {
		return r.GatewayAPI.Service.ExternalTrafficPolicy, true
	}
	for _, d := range c.set.Docs {
		if d.APIVersion() != "v1" || d.Kind() != "Service" || nameOf(d.Object) != want.Service.Name || namespaceOf(d.Object) != want.Namespace {
			continue
		}
		spec, _ := d.Object["spec"].(map[string]any)
		if etp, _ := spec["externalTrafficPolicy"].(string); etp != "" {
			return etp, true
		}
		return "Cluster", true
	}
	return "", false
}

func (c *checker) compareHCM(where string, want ExpectedHCM, got *HCMReport) {
	c.check(got.UseRemoteAddress == want.UseRemoteAddress, "%s: use_remote_address %v, the trace expects %v", where, got.UseRemoteAddress, want.UseRemoteAddress)
	if want.XffNumTrustedHops >= 0 {
		c.check(int(got.XffNumTrustedHops) == want.XffNumTrustedHops, "%s: xff_num_trusted_hops %d, the trace expects %d", where, got.XffNumTrustedHops, want.XffNumTrustedHops)
	}
	var names, cidrs []string
	for _, x := range got.OriginalIPDetectionExtensions {
		names = append(names, x.Name)
		if want.HeaderName != "" {
			c.check(strings.EqualFold(x.HeaderName, want.HeaderName), "%s: %s reads header %q, the trace expects %q", where, x.Name, x.HeaderName, want.HeaderName)
		}
		cidrs = append(cidrs, x.TrustedCidrs...)
		c.hostBits(where+": "+x.Name+" trusted CIDR", x.TrustedCidrs...)
	}
	wantNames := []string{}
	if want.Detection != "" {
		wantNames = []string{want.Detection}
	}
	c.check(slices.Equal(names, wantNames) || len(names) == 0 && len(wantNames) == 0, "%s: original IP detection %v, the trace expects %v", where, names, wantNames)
	sort.Strings(cidrs)
	wantCidrs := slices.Clone(want.TrustedCidrs)
	sort.Strings(wantCidrs)
	c.check(slices.Equal(cidrs, wantCidrs) || len(cidrs) == 0 && len(wantCidrs) == 0, "%s: trusted CIDRs %v, the trace expects %v", where, cidrs, wantCidrs)
}

// hostBits fails on a CIDR with host bits set after its prefix: the library refuses them (src/net/cidr.ts
// parseCidr); istiod passes them through unmasked (pilot/pkg/networking/util AddrStrToCidrRange: netip.ParsePrefix
// keeps the address) and Envoy would match the masked block, so one in the output is a change the library did not make.
func (c *checker) hostBits(where string, cidrs ...string) {
	for _, text := range cidrs {
		p, err := netip.ParsePrefix(text)
		c.check(err == nil && p.Masked() == p, "%s %s has host bits set after the prefix (the library writes %s)", where, text, maskedCIDR(text))
	}
}

func (c *checker) compareSidecar(where string, want ExpectedProxy, r ProxyReport) {
	c.check(r.Proxy.Type == "Sidecar", "%s: istiod configured a %s", where, r.Proxy.Type)
	c.check(r.Proxy.InterceptionMode == want.InterceptionMode, "%s: interception %s, the trace expects %s", where, r.Proxy.InterceptionMode, want.InterceptionMode)
	var inbound *ListenerReport
	for i := range r.Listeners {
		if r.Listeners[i].Name == virtualInboundName {
			inbound = &r.Listeners[i]
		}
	}
	if want.InterceptionMode == "NONE" || !c.check(inbound != nil, "%s: istiod generated no %s listener", where, virtualInboundName) {
		return
	}
	tproxy := want.InterceptionMode == "TPROXY"
	c.check(inbound.OriginalSrc == tproxy, "%s: %s original_src %v, the trace expects %v (%s)", where, virtualInboundName, inbound.OriginalSrc, tproxy, want.InterceptionMode)
	c.check(inbound.Transparent == tproxy, "%s: %s transparent %v, the trace expects %v (%s)", where, virtualInboundName, inbound.Transparent, tproxy, want.InterceptionMode)
	c.check(ppMode(inbound.ProxyProtocol) == want.InboundProxyProtocol, "%s: %s PROXY protocol %s, the trace expects %s", where, virtualInboundName, ppMode(inbound.ProxyProtocol), want.InboundProxyProtocol)
	seen := map[string]bool{}
	for _, ch := range inbound.Chains {
		if ch.HCM == nil {
			continue
		}
		port := strconv.Itoa(int(ch.DestinationPort))
		hcm, ok := want.HCMByPort[port]
		if ok {
			seen[port] = true
		} else if want.InboundHCM != nil {
			hcm = *want.InboundHCM
		} else {
			continue
		}
		c.compareHCM(fmt.Sprintf("%s: %s chain %q (port %d)", where, virtualInboundName, ch.Name, ch.DestinationPort), hcm, ch.HCM)
	}
	for _, port := range sortedKeys(want.HCMByPort) {
		c.check(seen[port], "%s: %s has no HTTP chain on port %s, where the trace expects the XFF setting", where, virtualInboundName, port)
	}
}

// istioPolicyName reads `ns[NS]-policy[NAME]-rule[N]`, the RBAC policy name istiod gives a policy's rule.
var istioPolicyName = regexp.MustCompile(`^ns\[([^\]]*)\]-policy\[([^\]]*)\]-rule\[\d+\]$`)

func (c *checker) compareRBAC(where string, want ExpectedProxy, r ProxyReport) {
	for _, l := range r.Listeners {
		if want.Role == "sidecar" && l.Name != virtualInboundName {
			continue
		}
		// The rules of each policy on this listener, over its chains.
		byPolicy := map[string][]RBACRule{}
		for _, ch := range l.Chains {
			for _, rule := range ch.RBAC {
				c.hostBits(fmt.Sprintf("%s: listener %s: RBAC %s", where, l.Name, rule.Field), rule.CIDR)
				name := rule.Policy
				if m := istioPolicyName.FindStringSubmatch(rule.Policy); m != nil {
					name = m[1] + "/" + m[2]
				}
				byPolicy[name] = append(byPolicy[name], rule)
			}
		}
		expected := map[string]bool{}
		for _, w := range want.RBAC {
			if len(w.Listeners) > 0 && !slices.Contains(w.Listeners, l.Name) {
				continue
			}
			at := fmt.Sprintf("%s: listener %s: policy %s", where, l.Name, w.Policy)
			rules := byPolicy[w.Policy]
			if w.Policy == "" { // a scenario's expectation by action and field only
				rules = nil
				for _, rs := range byPolicy {
					for _, x := range rs {
						if x.Action == w.Action && x.Field == w.Field {
							rules = append(rules, x)
						}
					}
				}
				for k, rs := range byPolicy {
					if len(rs) > 0 && rs[0].Action == w.Action && rs[0].Field == w.Field {
						expected[k] = true
					}
				}
			}
			expected[w.Policy] = true
			c.compareRules(at, w, rules)
		}
		// Istio builds one RBAC filter with every policy of the proxy for each chain it gives one: a chain with RBAC
		// carries each expected policy.
		for _, ch := range l.Chains {
			present := map[string]bool{}
			for _, rule := range ch.RBAC {
				if m := istioPolicyName.FindStringSubmatch(rule.Policy); m != nil {
					present[m[1]+"/"+m[2]] = true
				}
			}
			for _, w := range want.RBAC {
				if len(present) > 0 && w.Policy != "" && (len(w.Listeners) == 0 || slices.Contains(w.Listeners, l.Name)) {
					c.check(present[w.Policy], "%s: listener %s chain %q (port %d): policy %s is not in its RBAC", where, l.Name, ch.Name, ch.DestinationPort, w.Policy)
				}
			}
		}
		for _, name := range sortedKeys(byPolicy) {
			if !expected[name] {
				x := byPolicy[name][0]
				c.check(false, "%s: listener %s: istiod has RBAC of policy %s (%s %s %s), which the trace does not expect", where, l.Name, name, x.Action, x.Field, x.CIDR)
			}
		}
	}
}

func (c *checker) compareRules(at string, w ExpectedRBAC, rules []RBACRule) {
	if !c.check(len(rules) > 0, "%s (%s %s %v): not in istiod's RBAC", at, w.Action, w.Field, w.Cidrs) {
		return
	}
	cidrs := map[string]bool{}
	for _, x := range rules {
		c.check(x.Action == w.Action, "%s: action %s, the trace expects %s", at, x.Action, w.Action)
		c.check(x.Field == w.Field, "%s: %s lands on %s, the trace expects %s", at, x.CIDR, x.Field, w.Field)
		c.check(x.Negated == w.Negated, "%s: %s negated %v, the trace expects %v", at, x.CIDR, x.Negated, w.Negated)
		cidrs[x.CIDR] = true
		ports := slices.Clone(x.Ports)
		slices.Sort(ports)
		c.check(slices.Equal(ports, w.Ports) || len(ports) == 0 && len(w.Ports) == 0, "%s: destination ports %v, the trace expects %v", at, ports, w.Ports)
		if w.ConditionsCompared {
			c.check(len(x.Conditions) == 0, "%s: conditions %v, the trace expects none", at, x.Conditions)
		}
	}
	got := sortedKeys(cidrs)
	want := slices.Clone(w.Cidrs)
	sort.Strings(want)
	c.check(slices.Equal(got, want), "%s: CIDRs %v, the trace expects %v", at, got, want)
}

// missingCertificate names a certificate Secret that a listener of the Gateway API Gateway `ref` ("Gateway ns/name")
// on `port` refers to and the set does not hold; "" when there is none.
func (c *checker) missingCertificate(ref, port string) string {
	for _, d := range c.set.Docs {
		if d.Kind() != "Gateway" || !strings.HasPrefix(d.APIVersion(), gatewayAPIGroup+"/") || d.Ref() != ref {
			continue
		}
		spec, _ := d.Object["spec"].(map[string]any)
		listeners, _ := spec["listeners"].([]any)
		for _, l := range listeners {
			lm, _ := l.(map[string]any)
			if fmt.Sprint(lm["port"]) != port {
				continue
			}
			tls, _ := lm["tls"].(map[string]any)
			refs, _ := tls["certificateRefs"].([]any)
			for _, cr := range refs {
				crm, _ := cr.(map[string]any)
				name, _ := crm["name"].(string)
				ns, _ := crm["namespace"].(string)
				if ns == "" {
					ns = namespaceOf(d.Object)
				}
				if !c.hasSecret(ns, name) {
					return ns + "/" + name
				}
			}
		}
	}
	return ""
}

func (c *checker) hasSecret(ns, name string) bool {
	for _, d := range c.set.Docs {
		if d.APIVersion() == "v1" && d.Kind() == "Secret" && namespaceOf(d.Object) == ns && nameOf(d.Object) == name {
			return true
		}
	}
	return false
}
