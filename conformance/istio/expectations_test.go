package conformance

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sidecarYAML is testdata/sidecar with the policy on ipBlocks only (the library writes one field per policy).
func sidecarYAML(t *testing.T) string {
	return strings.Replace(readTestdata(t, "sidecar"), `source: {ipBlocks: [10.32.0.0/14], remoteIpBlocks: ["203.0.113.7"]}`, `source: {ipBlocks: [10.32.0.0/14]}`, 1)
}

// sidecarExpectations is what the trace would expect of testdata/sidecar: TPROXY, 2 hops on port 8000, the ALLOW.
func sidecarExpectations() Expectations {
	return Expectations{From: "test", Proxies: []ExpectedProxy{{
		Namespace: "web", Name: "httpbin", Labels: map[string]string{"app": "httpbin"}, Role: "sidecar", Source: "test",
		InterceptionMode: "TPROXY", InboundProxyProtocol: "none",
		InboundHCM: &ExpectedHCM{},
		HCMByPort:  map[string]ExpectedHCM{"8000": {XffNumTrustedHops: 2}},
		RBAC: []ExpectedRBAC{{
			Policy: "web/httpbin-allow", Action: "ALLOW", Field: "direct_remote_ip", Cidrs: []string{"10.32.0.0/14"},
			ConditionsCompared: true, Listeners: []string{virtualInboundName},
		}},
	}}}
}

// runWithExpectations checks a set given as YAML text with an expectations.json.
func runWithExpectations(t *testing.T, yaml string, e Expectations) SetResult {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "set")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(e)
	if err := os.WriteFile(filepath.Join(dir, "objects.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ExpectationsFile), js, 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := LoadObjectSet(dir)
	if err != nil {
		t.Fatal(err)
	}
	if set.Expectations == nil {
		t.Fatal("expectations.json not read")
	}
	return Run(t, set)
}

// replaceLast replaces the last occurrence of old (the policy's selector: the Deployment's comes first).
func replaceLast(s, old, new string) string {
	i := strings.LastIndex(s, old)
	if i < 0 {
		return s
	}
	return s[:i] + new + s[i+len(old):]
}

func wantFailure(t *testing.T, res SetResult, substring string) {
	t.Helper()
	for _, f := range res.Failures {
		if strings.Contains(f, substring) {
			return
		}
	}
	t.Errorf("no failure contains %q; failures: %q", substring, res.Failures)
}

func TestExpectationsAgree(t *testing.T) {
	// GIVEN the sidecar set and what the trace expects of it WHEN checked THEN nothing fails
	res := runWithExpectations(t, sidecarYAML(t), sidecarExpectations())
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %q", res.Failures)
	}
}

func TestExpectationsFailOnEveryDifference(t *testing.T) {
	cases := map[string]struct {
		edit func(e *Expectations)
		yaml func(string) string
		want string
	}{
		"hops":          {edit: func(e *Expectations) { e.Proxies[0].HCMByPort["8000"] = ExpectedHCM{XffNumTrustedHops: 3} }, want: "xff_num_trusted_hops 2, the trace expects 3"},
		"interception":  {edit: func(e *Expectations) { e.Proxies[0].InterceptionMode = "REDIRECT" }, want: "interception TPROXY, the trace expects REDIRECT"},
		"field":         {edit: func(e *Expectations) { e.Proxies[0].RBAC[0].Field = "remote_ip" }, want: "lands on direct_remote_ip, the trace expects remote_ip"},
		"cidr":          {edit: func(e *Expectations) { e.Proxies[0].RBAC[0].Cidrs = []string{"10.33.0.0/16"} }, want: "CIDRs [10.32.0.0/14], the trace expects [10.33.0.0/16]"},
		"ports":         {edit: func(e *Expectations) { e.Proxies[0].RBAC[0].Ports = []uint32{8000} }, want: "destination ports [], the trace expects [8000]"},
		"extra proxy":   {edit: func(e *Expectations) { e.Proxies = nil }, want: "a proxy the trace does not expect"},
		"missing proxy": {edit: func(e *Expectations) { e.Proxies[0].Name = "other" }, want: "istiod configured no such proxy"},
		"extra policy":  {edit: func(e *Expectations) { e.Proxies[0].RBAC = nil }, want: "which the trace does not expect"},
		"dead policy": {
			yaml: func(y string) string {
				return replaceLast(y, "matchLabels: {app: httpbin}", "matchLabels: {app: nothing}")
			},
			edit: func(e *Expectations) { e.Proxies[0].RBAC = nil },
			want: "AuthorizationPolicy web/httpbin-allow selects no proxy of the set: dead configuration the trace does not expect",
		},
		"host bits": {
			yaml: func(y string) string {
				return strings.Replace(y, "ipBlocks: [10.32.0.0/14]", "ipBlocks: [10.32.0.1/14]", 1)
			},
			edit: func(e *Expectations) {},
			want: "10.32.0.1/14 has host bits set after the prefix (the library writes 10.32.0.0/14)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN the sidecar set and an expectation (or the set) changed in one thing WHEN checked THEN that fails
			e := sidecarExpectations()
			tc.edit(&e)
			yaml := sidecarYAML(t)
			if tc.yaml != nil {
				yaml = tc.yaml(yaml)
			}
			wantFailure(t, runWithExpectations(t, yaml, e), tc.want)
		})
	}
}

func TestExpectedDeadIsANote(t *testing.T) {
	// GIVEN a policy that selects nothing, named dead with a reason WHEN checked THEN it is a note, not a failure
	e := sidecarExpectations()
	e.Proxies[0].RBAC = nil
	e.Dead = []ExpectedDead{{Object: "AuthorizationPolicy web/httpbin-allow", Reason: "its workload is known by its labels only"}}
	res := runWithExpectations(t, replaceLast(sidecarYAML(t), "matchLabels: {app: httpbin}", "matchLabels: {app: nothing}"), e)
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %q", res.Failures)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "as expected: its workload is known by its labels only") {
		t.Errorf("notes: %q", res.Notes)
	}
}
