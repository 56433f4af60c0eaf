package conformance

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"istio.io/api/annotation"
	security "istio.io/api/security/v1beta1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/test"
	"istio.io/istio/pkg/test/util/retry"
	"istio.io/istio/pkg/workloadapi"
	workloadsecurity "istio.io/istio/pkg/workloadapi/security"
)

/*
 * ztunnel's authorization (issue 26): what istiod's ambient index sends ztunnel for the set's AuthorizationPolicies
 * (pilot/pkg/serviceregistry/ambient/authorization.go convertAuthorizationPolicy, read back through the index's
 * Policies and AddressInformation, as the WDS generator reads them). ztunnel matches only L4 attributes: a rule
 * with remoteIpBlocks (or paths, methods) is dropped from an ALLOW, which then matches nothing more, and enforced
 * without its HTTP attributes in a DENY, which then denies more than written; istiod says so in the policy's
 * status. A policy with targetRefs is not for ztunnel at all (it is a waypoint's or a gateway's).
 */

// ZtunnelReport is ztunnel's authorization for one set: <out>/<set>/ztunnel-authz.json.
type ZtunnelReport struct {
	Set string `json:"set"`
	// Policies lists every AuthorizationPolicy istiod converts for ztunnel, sorted by namespace/name.
	Policies []ZtunnelPolicy `json:"policies"`
	// Workloads lists the pods ztunnel captures (HBONE), with the selector policies istiod attaches to each.
	Workloads []ZtunnelWorkload `json:"workloads"`
	// Services lists the set's Services as ztunnel gets them: the waypoint it sends their traffic through.
	Services []ZtunnelService `json:"services"`
}

// ZtunnelService is one Service as ztunnel receives it.
type ZtunnelService struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Waypoint is the waypoint (namespace/name of its Service, which istiod names after the Gateway) ztunnel sends the
	// Service's traffic through, "" for none.
	Waypoint string `json:"waypoint"`
	// IngressUseWaypoint: traffic from ingress gateways goes through the waypoint too.
	IngressUseWaypoint bool `json:"ingressUseWaypoint"`
	// Workloads are the captured pods (namespace/name) behind the Service.
	Workloads []string `json:"workloads"`
}

// ZtunnelPolicy is one policy as ztunnel receives it.
type ZtunnelPolicy struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Scope is WORKLOAD_SELECTOR, NAMESPACE or GLOBAL (a policy without selector in the root namespace).
	Scope  string `json:"scope"`
	Action string `json:"action"`
	// Groups are the policy's rules as ztunnel gets them: an ALLOW rule with HTTP attributes is gone.
	Groups []ZtunnelGroup `json:"groups"`
	// Status is the message istiod writes on the policy when ztunnel cannot enforce all of it ("" otherwise).
	Status string `json:"status"`
	// Workloads are the captured pods (namespace/name) ztunnel enforces the policy on.
	Workloads []string `json:"workloads"`
}

// ZtunnelGroup is one rule of a policy.
type ZtunnelGroup struct {
	SourceCidrs      []string `json:"sourceCidrs"`
	NotSourceCidrs   []string `json:"notSourceCidrs"`
	DestinationPorts []uint32 `json:"destinationPorts"`
	// AnySource: no match of the rule names a caller (addresses, namespaces, principals, service accounts): in a
	// DENY whose remoteIpBlocks were dropped, the rule matches every caller.
	AnySource bool `json:"anySource"`
}

// ZtunnelWorkload is one captured pod.
type ZtunnelWorkload struct {
	Name      string   `json:"name"`
	Namespace string   `json:"namespace"`
	Policies  []string `json:"policies"`
	// Waypoint is the workload's own waypoint (for waypoints of workload traffic), "" for none.
	Waypoint string `json:"waypoint"`
	// services are the Services' hostnames (namespace/hostname) the pod is behind.
	services []string
}

// waypointOf names the waypoint of a gateway address by its Service (namespace/name), "" for none.
func waypointOf(a *workloadapi.GatewayAddress) string {
	h := a.GetHostname()
	if h == nil {
		return ""
	}
	return h.GetNamespace() + "/" + strings.Split(h.GetHostname(), ".")[0]
}

// ztunnelAuthorization reads ztunnel's authorization from the fake istiod's ambient index (nil without one).
func ztunnelAuthorization(set string, idx model.AmbientIndexes, rootNs string) *ZtunnelReport {
	if _, noop := idx.(*model.NoopAmbientIndexes); noop || idx == nil {
		return nil
	}
	r := &ZtunnelReport{Set: set, Policies: []ZtunnelPolicy{}, Workloads: []ZtunnelWorkload{}, Services: []ZtunnelService{}}
	addresses, _ := idx.AddressInformation(nil)
	for _, a := range addresses {
		w := a.GetWorkload()
		if w == nil || w.GetTunnelProtocol() != workloadapi.TunnelProtocol_HBONE {
			continue
		}
		r.Workloads = append(r.Workloads, ZtunnelWorkload{Name: w.GetName(), Namespace: w.GetNamespace(), Policies: append([]string{}, w.GetAuthorizationPolicies()...),
			Waypoint: waypointOf(w.GetWaypoint()), services: sortedKeys(w.GetServices())})
	}
	for _, a := range addresses {
		s := a.GetService()
		if s == nil {
			continue
		}
		zs := ZtunnelService{Name: s.GetName(), Namespace: s.GetNamespace(), Waypoint: waypointOf(s.GetWaypoint()), IngressUseWaypoint: s.GetIngressUseWaypoint(), Workloads: []string{}}
		for _, w := range r.Workloads {
			if slices.Contains(w.services, s.GetNamespace()+"/"+s.GetHostname()) {
				zs.Workloads = append(zs.Workloads, w.Namespace+"/"+w.Name)
			}
		}
		slices.Sort(zs.Workloads)
		r.Services = append(r.Services, zs)
	}
	sort.Slice(r.Services, func(i, j int) bool {
		return r.Services[i].Namespace+"/"+r.Services[i].Name < r.Services[j].Namespace+"/"+r.Services[j].Name
	})
	sort.Slice(r.Workloads, func(i, j int) bool {
		return r.Workloads[i].Namespace+"/"+r.Workloads[i].Name < r.Workloads[j].Namespace+"/"+r.Workloads[j].Name
	})
	for _, wa := range idx.Policies(nil) {
		p := wa.Authorization
		zp := ZtunnelPolicy{Name: p.GetName(), Namespace: p.GetNamespace(), Scope: p.GetScope().String(), Action: p.GetAction().String(),
			Groups: []ZtunnelGroup{}, Workloads: []string{}}
		if wa.Binding.Status != nil {
			zp.Status = wa.Binding.Status.Message
		}
		for _, g := range p.GetGroups() {
			zp.Groups = append(zp.Groups, ztunnelGroup(g))
		}
		for _, w := range r.Workloads {
			// Selector policies are attached to each workload; ztunnel applies namespace and global ones itself.
			global := zp.Scope == workloadsecurity.Scope_GLOBAL.String() && p.GetNamespace() == rootNs
			namespaced := zp.Scope == workloadsecurity.Scope_NAMESPACE.String() && p.GetNamespace() == w.Namespace
			if global || namespaced || slices.Contains(w.Policies, p.GetNamespace()+"/"+p.GetName()) {
				zp.Workloads = append(zp.Workloads, w.Namespace+"/"+w.Name)
			}
		}
		r.Policies = append(r.Policies, zp)
	}
	sort.Slice(r.Policies, func(i, j int) bool {
		return r.Policies[i].Namespace+"/"+r.Policies[i].Name < r.Policies[j].Namespace+"/"+r.Policies[j].Name
	})
	return r
}

func ztunnelGroup(g *workloadsecurity.Group) ZtunnelGroup {
	out := ZtunnelGroup{SourceCidrs: []string{}, NotSourceCidrs: []string{}, DestinationPorts: []uint32{}, AnySource: true}
	for _, rules := range g.GetRules() {
		for _, m := range rules.GetMatches() {
			out.SourceCidrs = append(out.SourceCidrs, addressTexts(m.GetSourceIps())...)
			out.NotSourceCidrs = append(out.NotSourceCidrs, addressTexts(m.GetNotSourceIps())...)
			out.DestinationPorts = append(out.DestinationPorts, m.GetDestinationPorts()...)
			if len(m.GetSourceIps())+len(m.GetNotSourceIps())+len(m.GetNamespaces())+len(m.GetNotNamespaces())+len(m.GetPrincipals())+
				len(m.GetNotPrincipals())+len(m.GetServiceAccounts())+len(m.GetNotServiceAccounts()) > 0 {
				out.AnySource = false
			}
		}
	}
	return out
}

func addressTexts(addrs []*workloadsecurity.Address) []string {
	out := []string{}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.GetAddress())
		if !ok {
			out = append(out, fmt.Sprintf("invalid %x/%d", a.GetAddress(), a.GetLength()))
			continue
		}
		out = append(out, netip.PrefixFrom(ip.Unmap(), int(a.GetLength())).Masked().String())
	}
	return out
}

// ztunnelPolicy returns istiod's conversion of the policy ns/name, or nil when it sends ztunnel none.
func (r *ZtunnelReport) policy(ns, name string) *ZtunnelPolicy {
	if r == nil {
		return nil
	}
	for i, p := range r.Policies {
		if p.Namespace == ns && p.Name == name {
			return &r.Policies[i]
		}
	}
	return nil
}

// ztunnelBound: ztunnel enforces the policy ns/name on at least one captured pod of the set.
func (c *checker) ztunnelBound(ns, name string) bool {
	p := c.res.Ztunnel.policy(ns, name)
	return p != nil && len(p.Workloads) > 0
}

// ztunnel asserts, for each AuthorizationPolicy ztunnel enforces on a captured pod of the set, that istiod sends it
// whole (no status: ztunnel cannot enforce remoteIpBlocks, paths or methods, and istiod then drops or widens the
// rule) and that each ipBlocks CIDR is a source address of its rules with the policy's action.
func (c *checker) ztunnel() {
	if c.res.Ztunnel == nil {
		return
	}
	for _, o := range c.set.Istio {
		ap, ok := o.Config.Spec.(*security.AuthorizationPolicy)
		if o.Err != nil || !ok || len(policyTargetRefs(ap)) > 0 || !c.ztunnelBound(o.Config.Namespace, o.Config.Name) {
			continue
		}
		zp := c.res.Ztunnel.policy(o.Config.Namespace, o.Config.Name)
		ref := o.Doc.Ref()
		c.check(zp.Status == "", "%s: ztunnel enforces it on %v but cannot enforce all of it: istiod says %q", ref, zp.Workloads, zp.Status)
		c.check(zp.Action == ap.GetAction().String(), "%s: ztunnel gets action %s, want %s", ref, zp.Action, ap.GetAction())
		for _, want := range expectedRules(ap) {
			if want.Field != "direct_remote_ip" {
				continue
			}
			found := false
			for _, g := range zp.Groups {
				found = found || !want.Negated && slices.Contains(g.SourceCidrs, want.CIDR) || want.Negated && slices.Contains(g.NotSourceCidrs, want.CIDR)
			}
			c.check(found, "%s: ipBlocks %s (negated %v) is not a source address of ztunnel's %s rules on %v", ref, want.CIDR, want.Negated, zp.Action, zp.Workloads)
		}
	}
}

// waitForAmbientIndex waits until the fake istiod's ambient index holds every captured pod and every Service of the
// fake cluster, and then stops changing: its collections fill asynchronously after the informers sync, and both
// the waypoints' listeners (ServicesForWaypoint) and ztunnel's authorization are read from it.
func waitForAmbientIndex(t test.Failer, idx model.AmbientIndexes, objects []runtime.Object) {
	if _, noop := idx.(*model.NoopAmbientIndexes); noop || idx == nil {
		return
	}
	want := map[string]bool{}
	for _, o := range objects {
		switch obj := o.(type) {
		case *corev1.Pod:
			if obj.Annotations[annotation.AmbientRedirection.Name] == constants.AmbientRedirectionEnabled {
				want["pod "+obj.Namespace+"/"+obj.Name] = true
			}
		case *corev1.Service:
			want["service "+obj.Namespace+"/"+obj.Name] = true
		}
	}
	last, stable := "", 0
	retry.UntilOrFail(t, func() bool {
		addresses, _ := idx.AddressInformation(nil)
		seen := map[string]bool{}
		var keys []string
		for _, a := range addresses {
			if w := a.GetWorkload(); w != nil && w.GetTunnelProtocol() == workloadapi.TunnelProtocol_HBONE {
				seen["pod "+w.GetNamespace()+"/"+w.GetName()] = true
			}
			if s := a.GetService(); s != nil {
				seen["service "+s.GetNamespace()+"/"+s.GetName()] = true
			}
			keys = append(keys, a.String())
		}
		for k := range want {
			if !seen[k] {
				return false
			}
		}
		sort.Strings(keys)
		state := strings.Join(keys, "\n") + fmt.Sprint(len(idx.Policies(nil)))
		if state != last {
			last, stable = state, 0
			return false
		}
		stable++
		return stable >= 5
	}, retry.Timeout(20*time.Second), retry.Delay(20*time.Millisecond))
}
