package conformance

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"istio.io/istio/pkg/log"
)

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// TestObjectSets checks every object set (a subdirectory of CONFORMANCE_FIXTURES) and writes what Istio generated
// to CONFORMANCE_OUT/<set>/.
func TestObjectSets(t *testing.T) {
	root := envOr("CONFORMANCE_FIXTURES", "../out/fixtures")
	out := envOr("CONFORMANCE_OUT", "../out/istio")
	dirs, err := ListObjectSets(root)
	if os.IsNotExist(err) || err == nil && len(dirs) == 0 {
		t.Skipf("SKIPPED: no object sets under %s (.ci/conformance.sh synthesises them)", root)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			set, err := LoadObjectSet(dir)
			if err != nil {
				t.Fatal(err)
			}
			if set.Expectations == nil {
				t.Errorf("%s: no %s: the library's trace writes one for every set (test/conformance/fixtures.ts)", dir, ExpectationsFile)
			}
			res := Run(t, set)
			if err := WriteResult(filepath.Join(out, set.Name), res); err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Failures {
				t.Error(f)
			}
			for _, n := range res.Notes {
				t.Log("note: " + n)
			}
			t.Logf("%d proxies, %d checks, %d failed", len(res.Proxies), res.Checks, len(res.Failures))
		})
	}
}

// TestMain keeps istiod's informational logging out of the test output.
func TestMain(m *testing.M) {
	flag.Parse()
	o := log.DefaultOptions()
	o.SetDefaultOutputLevel(log.OverrideScopeName, log.ErrorLevel)
	if err := log.Configure(o); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
