#!/usr/bin/env bash
# Istio conformance (issues 13, 26): synthesise the object sets (example app, per chart and whole, + scenarios) with
# the trace's expectations (expectations.json), check them with Istio's own validation and config generator
# (conformance/istio, Go), which compares istiod's output with those expectations, run the mutation suite, compare
# istiod's output with the model explain reads back (jest, a sanity check), and print "N passed, N failed" over the
# Go tests and the comparison tests. Each istiod pin is one Go
# module: conformance/istio (the 1.31 line; sets made for the default release) and conformance/istio-1.30 (an
# istiod that behaves as 1.30 on the library's gates; the same sets made for Istio 1.30, CONFORMANCE_PIN=1.30). Go modules come from
# GOPROXY into the default Go caches; nothing else is installed. Run after `npm ci` (.ci/run does it).
set -uo pipefail
cd "$(dirname "$0")/.."

export CI=true
export CDK8S_CHECK_UPGRADE=false
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
out=conformance/out
mkdir -p "$out"
passed=0
failed=0
jest_counts() { # adds a jest --json result to the totals
  if [ -f "$1" ]; then
    read -r p f < <(node -e 'const r=require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites||0))' "$PWD/$1")
    passed=$((passed + p)); failed=$((failed + f))
  else
    failed=$((failed + 1))
  fi
}
step() { echo "== $1: $(( $(date +%s) - start ))s (exit $2)"; }

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund >"$out/npm-ci.log" 2>&1 || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi

start=$(date +%s)
# .ci/run synthesises the example app just before this stage and says so; run on its own, the stage does it itself.
if [ "${CONFORMANCE_EXAMPLE_DONE:-}" = 1 ] && [ -d examples/seed-scenarios/dist ]; then
  echo "== example app (examples/seed-scenarios/dist): synthesised by .ci/run"
else
  npm run example >"$out/example.log" 2>&1
  rc=$?; step "example app (examples/seed-scenarios/dist)" $rc
  [ $rc -eq 0 ] || { tail -n 20 "$out/example.log"; failed=$((failed + 1)); }
fi

start=$(date +%s)
rm -f "$out/fixtures-jest.json"
CONFORMANCE_WRITE_FIXTURES=1 npx jest --ci --coverage=false --reporters=default --json --outputFile="$out/fixtures-jest.json" \
  test/conformance/fixtures.test.ts
rc=$?; step "object sets -> $out/fixtures" $rc
jest_counts "$out/fixtures-jest.json"

start=$(date +%s)
rm -f "$out/fixtures-1.30-jest.json"
CONFORMANCE_PIN=1.30 CONFORMANCE_WRITE_FIXTURES=1 npx jest --ci --coverage=false --reporters=default --json --outputFile="$out/fixtures-1.30-jest.json" \
  test/conformance/fixtures.test.ts
rc=$?; step "object sets for Istio 1.30 -> $out/fixtures-1.30" $rc
jest_counts "$out/fixtures-1.30-jest.json"

# go_stage <module> <pin suffix> <mutations 0|1>: runs the module's Go tests over $out/fixtures<suffix> into
# $out/istio<suffix> (with the mutation suite when asked), then go vet.
go_stage() {
  local module=$1 suffix=$2 mutate=$3 json="$out/go-test$2.json"
  start=$(date +%s)
  rm -rf "$out/istio$suffix" "$json"
  (cd "conformance/$module" && CONFORMANCE_MUTATIONS=$mutate CONFORMANCE_FIXTURES="$PWD/../out/fixtures$suffix" CONFORMANCE_OUT="$PWD/../out/istio$suffix" \
    go test -count=1 -timeout 20m -json ./... >"../out/go-test$suffix.json")
  rc=$?; step "go test conformance/$module (the first run on a machine downloads and builds its istio.io/istio; then validation + config generation per set$([ "$mutate" = 1 ] && echo ', mutations'))" $rc
  # go vet after the tests: they have compiled every dependency, so vet only analyses this package (seconds).
  start=$(date +%s)
  (cd "conformance/$module" && go vet ./... >"../out/go-vet$suffix.log" 2>&1)
  rc=$?; step "go vet conformance/$module" $rc
  [ $rc -eq 0 ] || { cat "$out/go-vet$suffix.log"; failed=$((failed + 1)); }
  # One line per Go test; the output of every failed one.
  read -r p f < <(node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(l => { try { return JSON.parse(l); } catch { return { Output: l }; } });
    const out = new Map(); let p = 0, f = 0;
    for (const e of lines) {
      const key = `${e.Package}/${e.Test}`;
      if (e.Test && e.Action === "output") out.set(key, (out.get(key) || "") + e.Output);
      if (!e.Test && e.Action === "output" && /FAIL|panic|cannot|error/i.test(e.Output)) process.stderr.write(e.Output);
      if (!e.Test && e.Action === "fail" && ![...out.keys()].some(k => k.startsWith(`${e.Package}/`))) f++;
      if (!e.Test || !["pass", "fail", "skip"].includes(e.Action)) continue;
      const parent = lines.some(x => x.Test && x.Test.startsWith(e.Test + "/") && x.Package === e.Package);
      if (parent) continue; // count leaf tests only
      if (e.Action === "pass") p++;
      if (e.Action === "fail") { f++; process.stderr.write(`--- FAIL ${e.Test}\n${out.get(key) || ""}`); }
      if (e.Action === "skip") process.stderr.write(`--- SKIP ${e.Test}\n${out.get(key) || ""}`);
    }
    console.log(p, f);' "$json" 2>"$out/go-failures$suffix.log")
  cat "$out/go-failures$suffix.log"
  node -e '
    const fs = require("fs"), path = require("path"), dir = process.argv[1];
    const sets = fs.existsSync(dir) ? fs.readdirSync(dir).filter(s => fs.existsSync(path.join(dir, s, "result.json"))) : [];
    const results = sets.map(s => JSON.parse(fs.readFileSync(path.join(dir, s, "result.json"), "utf8")));
    const files = s => fs.readdirSync(path.join(dir, s));
    const proxies = sets.reduce((n, s) => n + files(s).filter(f => f !== "result.json" && f !== "ztunnel-authz.json").length, 0);
    const waypoints = sets.reduce((n, s) => n + files(s).filter(f => f.endsWith(".json") && JSON.parse(fs.readFileSync(path.join(dir, s, f), "utf8")).proxy?.type === "Waypoint").length, 0);
    const ztunnel = sets.filter(s => files(s).includes("ztunnel-authz.json")).length;
    const sum = k => results.reduce((n, r) => n + (Array.isArray(r[k]) ? r[k].length : r[k]), 0);
    const dead = results.reduce((n, r) => n + r.notes.filter(x => x.includes(", as expected: ")).length, 0);
    console.log(`istio (${process.argv[2]}): ${sets.length} object sets, ${proxies} proxies (${waypoints} waypoints), ztunnel authorization in ${ztunnel} sets, ${sum("validation")} objects validated, ${sum("checks")} checks, ${sum("failures")} failed, ${sum("notes")} notes (${dead} dead objects the trace expects, with its reason):`);
    for (const r of results) for (const n of r.notes) console.log(`  note ${r.set}: ${n}`);
  ' "$out/istio$suffix" "$module"
  if [ "$mutate" = 1 ]; then
    # TestMutations (mutations_test.go) edits copies of the sets and writes what caught each edit.
    if [ -f "$out/istio$suffix/mutations.txt" ]; then
      grep -v '^caught ' "$out/istio$suffix/mutations.txt"
      read -r k n < <(sed -n 's/^mutations: \([0-9]*\)\/\([0-9]*\) caught$/\1 \2/p' "$out/istio$suffix/mutations.txt")
      [ -n "${k:-}" ] && [ "$k" = "$n" ] && [ "$n" -ge 30 ] || failed=$((failed + 1))
    else
      echo "mutations: no result ($out/istio$suffix/mutations.txt missing)"; failed=$((failed + 1))
    fi
  fi
  echo "go test conformance/$module: $p passed, $f failed"
  passed=$((passed + p)); failed=$((failed + f))
  [ $rc -eq 0 ] || [ "$f" -gt 0 ] || failed=$((failed + 1))
}

if ! command -v go >/dev/null; then
  echo "go is not installed: the Istio conformance checks cannot run"
  failed=$((failed + 1))
else
  go version
  # conformance/istio-1.30 shares every file but pin.go and pin_test.go with conformance/istio (symbolic links).
  unformatted=$(gofmt -l conformance/istio conformance/istio-1.30/pin.go conformance/istio-1.30/pin_test.go)
  [ -z "$unformatted" ] || { echo "gofmt needed: $unformatted"; failed=$((failed + 1)); }
  # The mutation suite runs on the 1.31 pin only: it tests the stage's checks, which both pins share.
  go_stage istio "" 1
  go_stage istio-1.30 "-1.30" 0
fi

start=$(date +%s)
rm -f "$out/compare-jest.json"
CONFORMANCE_REQUIRED=1 npx jest --ci --coverage=false --reporters=default --json --outputFile="$out/compare-jest.json" \
  test/conformance/compare.test.ts test/conformance/comparison.test.ts test/conformance/ambient.test.ts
rc=$?; step "model vs istiod comparison (and ambient: waypoints, ztunnel)" $rc
jest_counts "$out/compare-jest.json"

start=$(date +%s)
rm -f "$out/compare-1.30-jest.json"
CONFORMANCE_PIN=1.30 CONFORMANCE_REQUIRED=1 npx jest --ci --coverage=false --reporters=default --json --outputFile="$out/compare-1.30-jest.json" \
  test/conformance/comparison.test.ts test/conformance/ambient.test.ts
rc=$?; step "model vs istiod comparison (Istio 1.30 pin)" $rc
jest_counts "$out/compare-1.30-jest.json"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
