package conformance

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/test"
)

// Run validates the set with Istio's validation, generates every proxy's configuration with Istio's config
// generator and checks the client-address settings in it.
func Run(t test.Failer, set *ObjectSet) SetResult {
	res := SetResult{Set: set.Name, Failures: []string{}, Notes: []string{}}
	c := &checker{set: set, res: &res}
	enableAmbient(t, set)
	res.Validation = Validate(set)
	for _, v := range res.Validation {
		c.check(v.Error == "", "%s: rejected by Istio's validation: %s", v.Object, v.Error)
		for _, w := range v.Warnings {
			// Unknown fields in a patch are only a warning: istiod then drops them without a word.
			c.check(strings.Contains(w, genericEnvoyFilterWarning), "%s: Istio's validation warns: %s", v.Object, w)
		}
	}
	m := mesh.DefaultMeshConfig()
	proxies, errs := set.Proxies(m)
	for _, err := range errs {
		c.check(false, "%v", err)
	}
	if gatewayAPITCPNeedsAlphaFlag && set.usesTCPGatewayAPI() {
		// Before 1.31 istiod serves Gateway API TCP listeners and TCPRoutes only with PILOT_ENABLE_ALPHA_GATEWAY_API
		// (istio/istio#60766 dropped the flag for them). Where the pin needs no flag, istiod runs without it.
		test.SetForTest(t, &features.EnableAlphaGatewayAPI, true)
		c.note("the set has Gateway API TCP listeners or TCPRoutes: istiod %s runs with %s=true here, and must in the cluster", IstioVersion, features.EnableAlphaGatewayAPIName)
	}
	if _, notes, err := set.GatewayAPIObjects(); err == nil {
		for _, n := range notes {
			c.note("%s", n)
		}
	}
	gatewayAPI, manual, err := gatewayAPIProxies(t, set, m)
	c.check(err == nil, "%v", err)
	for _, n := range manual {
		c.note("%s", n)
	}
	proxies = append(proxies, gatewayAPI...)
	if len(proxies) == 0 {
		c.note("the set has no gateway or sidecar")
		c.compareExpectations(map[string]ProxyReport{})
		return res
	}
	gens, err := Generate(t, set, m, proxies)
	c.check(err == nil, "generating the configuration: %v", err)
	if err != nil {
		return res
	}
	c.gens = gens
	res.Ztunnel = set.ztunnel
	template, err := BootstrapTemplate()
	c.check(err == nil, "%v", err)
	reports := map[string]ProxyReport{}
	for _, g := range gens {
		r, err := g.Report(set.Name)
		c.check(err == nil, "%s: reading the generated configuration: %v", proxyName(g), err)
		if g.Spec.Type == "Router" && template != "" {
			r.StatusPort, err = StatusPort(g.Spec, template)
			c.check(err == nil, "%v", err)
			c.statusPort(g, r.StatusPort)
		}
		reports[proxyName(g)] = r
		res.Proxies = append(res.Proxies, r)
	}
	c.envoyFilters()
	c.ztunnel()
	c.waypoints(reports)
	c.policies(reports)
	c.interception(reports)
	c.gatewayTopology(reports, c.hcmPatched())
	c.proxyProtocolPairs(reports)
	c.compareExpectations(reports)
	return res
}

// hcmPatched returns the gateways whose HCM an EnvoyFilter merges into: their hop count is the patch's, not the
// ProxyConfig's.
func (c *checker) hcmPatched() map[string]bool {
	out := map[string]bool{}
	for _, o := range c.set.Istio {
		ef, ok := o.Config.Spec.(*networking.EnvoyFilter)
		if o.Err != nil || !ok {
			continue
		}
		for _, cp := range ef.GetConfigPatches() {
			if cp.GetApplyTo() != networking.EnvoyFilter_NETWORK_FILTER {
				continue
			}
			for _, g := range c.selected(o.Config.Namespace, ef.GetWorkloadSelector().GetLabels(), ef.GetTargetRefs()) {
				if g.Spec.Type == "Router" && inContext(g, cp.GetMatch().GetContext()) {
					out[proxyName(g)] = true
				}
			}
		}
	}
	return out
}

// WriteResult writes result.json and one <namespace>.<name>.json per proxy into dir.
func WriteResult(dir string, res SetResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "result.json"), res); err != nil {
		return err
	}
	if res.Ztunnel != nil {
		if err := writeJSON(filepath.Join(dir, "ztunnel-authz.json"), res.Ztunnel); err != nil {
			return err
		}
	}
	for _, p := range res.Proxies {
		name := strings.ReplaceAll(p.Proxy.Namespace+"."+p.Proxy.Name, "/", "_") + ".json"
		if err := writeJSON(filepath.Join(dir, name), p); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(js, '\n'), 0o644)
}
