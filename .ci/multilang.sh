#!/usr/bin/env bash
# Builds the Python, Go and Java packages of the library with jsii-pacmak (after the main build produced .jsii and
# lib/), runs the consumer apps of examples/multilang/ against them, and compares their YAML byte for byte with the
# TypeScript twin's. Prints "N passed, N failed"; exits non-zero when a check failed.
#
# What each language gets from its registry, and what is built here instead:
# - Python: a fresh venv with the wheel from dist/python and cdk8s (and its deps) from PyPI.
# - Go: jsii-runtime-go and constructs-go come from the Go module proxy; the proxy serves no version of
#   github.com/cdk8s-team/cdk8s-core-go or cdk8s-plus-go (403 "not available") nor constructs-go v10.4.0's source,
#   so the cdk8s and cdk8s-plus-27 Go modules are generated here from their npm packages with jsii-pacmak, and the
#   app uses `replace` directives for them and for this library's module (dist/go).
# - Java: cdk8s, constructs and the jsii runtime come from Maven Central; it has no org.cdk8s:cdk8s-plus-27, so
#   jsii-pacmak builds that jar from the npm package too (package:java), and the app reads both local repositories.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export CDK8S_CHECK_UPGRADE=false

work=${MULTILANG_WORK:-$(mktemp -d /tmp/multilang.XXXXXX)}
out=$work/out
mkdir -p "$out"
log=$work/logs
mkdir -p "$log"
echo "multilang: work dir $work"

# Each check appends one line to the result file of its step: the Python, Go and Java steps run at the same time in
# subshells, so the counts are read back from these files, not from shell variables.
results=$work/results
mkdir -p "$results"
step_result=$results/main
pass() { echo "pass" >>"$step_result"; echo "PASS $1"; }
fail() { echo "fail" >>"$step_result"; echo "FAIL $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 30 "$2"; }
count_results() {
  passed=$(cat "$results"/* 2>/dev/null | grep -c '^pass$')
  failed=$(cat "$results"/* 2>/dev/null | grep -c '^fail$')
}
summary() { count_results; echo "multilang: $passed passed, $failed failed"; }
step_start() { step_t0=$(date +%s); }
step_time() { echo "  $1: $(( $(date +%s) - step_t0 ))s"; }

# Same files, same bytes, as the TypeScript twin.
compare() {
  local lang=$1 dir=$2
  local expected actual
  expected=$(cd "$out/typescript" && ls)
  actual=$(cd "$dir" 2>/dev/null && ls)
  if [ "$expected" != "$actual" ]; then
    fail "$lang: output files differ from the TypeScript twin (expected: $(echo $expected); got: $(echo $actual))"
    return
  fi
  local f ok=1
  for f in $expected; do
    if ! cmp -s "$out/typescript/$f" "$dir/$f"; then
      ok=0
      echo "  $lang/$f differs from the TypeScript twin:"
      diff -u "$out/typescript/$f" "$dir/$f" | head -n 40
    fi
  done
  if [ $ok -eq 1 ]; then pass "$lang: YAML equals the TypeScript twin byte for byte ($(echo $expected))"; else fail "$lang: YAML differs from the TypeScript twin"; fi
}

total_t0=$(date +%s)

# The toolchains come with the machine; their packages come from the registries below.
for tool in python3 go mvn java; do
  command -v "$tool" >/dev/null 2>&1 || echo "multilang: $tool is not installed: the steps that need it will fail"
done
echo "multilang: node $(node --version), $(python3 --version 2>&1), $(go version 2>&1), $(mvn -v 2>&1 | head -n 1 | sed 's/\x1b\[[0-9;]*m//g')"

# 0. The compiled library (.jsii, lib/), normally left by `npx projen build`.
if [ ! -f .jsii ] || [ ! -f lib/index.js ]; then
  echo "multilang: no .jsii or lib/index.js: compiling"
  npx projen compile >"$log/compile.log" 2>&1 || { fail "compile (jsii and the entry-point bundle)" "$log/compile.log"; summary; exit 1; }
fi

# 1. The TypeScript twin.
step_start
if npx ts-node --transpile-only -P test/tsconfig.json examples/multilang/typescript/main.ts "$out/typescript" >"$log/typescript.log" 2>&1 \
    && [ -n "$(ls "$out/typescript" 2>/dev/null)" ]; then
  pass "typescript: twin synthesised ($(ls "$out/typescript" | wc -l) files)"
else
  fail "typescript: twin did not synthesise" "$log/typescript.log"
  summary
  exit 1
fi
step_time typescript

# 2. Python: the wheel into dist/python, then a fresh venv with it and cdk8s from PyPI.
step_python() {
step_start
rm -rf dist/python
if npx projen package:python >"$log/pacmak-python.log" 2>&1 && ls dist/python/*.whl >/dev/null 2>&1; then
  pass "python: package built ($(basename dist/python/*.whl))"
  python=${PYTHON:-python3}
  if "$python" -m venv "$work/venv" >"$log/venv.log" 2>&1 \
      && "$work/venv/bin/pip" install -q --disable-pip-version-check dist/python/*.whl -r examples/multilang/python/requirements.txt >>"$log/venv.log" 2>&1 \
      && (cd examples/multilang/python && "$work/venv/bin/python" main.py "$out/python") >"$log/python.log" 2>&1; then
    compare python "$out/python"
  else
    fail "python: consumer app failed in a fresh venv" "$log/python.log"
    tail -n 20 "$log/venv.log"
  fi
else
  fail "python: jsii-pacmak failed" "$log/pacmak-python.log"
fi
step_time python
}

# 3. Go: this library's module into dist/go, the cdk8s ones into the work dir, then `go run` with replaces.
step_go() {
step_start
rm -rf dist/go
if npx projen package:go >"$log/pacmak-go.log" 2>&1 \
    && npx jsii-pacmak -v --code-only --target go -o "$work/go-deps" node_modules/cdk8s node_modules/cdk8s-plus-27 >>"$log/pacmak-go.log" 2>&1; then
  gomod=$(ls -d dist/go/*/ | head -n 1)
  pass "go: module generated (${gomod%/})"
  rm -rf "$work/go-app"
  cp -r examples/multilang/go "$work/go-app"
  (
    cd "$work/go-app" || exit 1
    go mod edit \
      -replace "github.com/cdk8s-istio-source-ip/cdk8s-istio-source-ip-go/cdk8sistiosourceip=$root/${gomod%/}" \
      -replace "github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2=$work/go-deps/go/cdk8s" \
      -replace "github.com/cdk8s-team/cdk8s-plus-go/cdk8splus27/v2=$work/go-deps/go/cdk8splus27"
    # go.sum pins what the proxy serves; the checksum database is not reachable from the CI machines.
    GOFLAGS=-mod=mod GOSUMDB=off go run . "$out/go"
  ) >"$log/go.log" 2>&1
  if [ $? -eq 0 ]; then compare go "$out/go"; else fail "go: consumer app failed" "$log/go.log"; fi
else
  fail "go: jsii-pacmak failed" "$log/pacmak-go.log"
fi
step_time go
}

# 4. Java: our jar into dist/java (a Maven repository layout) and cdk8s-plus-27's next to its npm package, then the
#    app with mvn against both.
step_java() {
step_start
rm -rf dist/java node_modules/cdk8s-plus-27/dist/java
# cdk8s-plus-27's jar only has to compile against and run (Maven Central has none to download), so its javadoc and
# source jars are skipped: that halves its build. Ours is built as `npx projen package:java` would, javadoc included.
if MAVEN_OPTS="${MAVEN_OPTS:-} -Dmaven.javadoc.skip=true -Dmaven.source.skip=true" \
      npx jsii-pacmak -v node_modules/cdk8s-plus-27 --target java >"$log/pacmak-java.log" 2>&1 \
    && npx jsii-pacmak -v . --target java >>"$log/pacmak-java.log" 2>&1 \
    && ls dist/java/io/github/cdk8s-istio-source-ip/cdk8s-istio-source-ip/*/*.jar >/dev/null 2>&1; then
  pass "java: package built ($(basename "$(ls dist/java/io/github/cdk8s-istio-source-ip/cdk8s-istio-source-ip/*/cdk8s-istio-source-ip-*[0-9].jar)"))"
  rm -rf "$work/java-app"
  cp -r examples/multilang/java "$work/java-app"
  # The user's local repository keeps what Maven Central serves between runs, but the two artifacts built here are
  # removed from it first: a jar of the same version cached by an earlier run would win over the one just built.
  m2=${MULTILANG_M2:-$HOME/.m2/repository}
  rm -rf "$m2/io/github/cdk8s-istio-source-ip/cdk8s-istio-source-ip" "$m2/org/cdk8s/cdk8s-plus-27"
  version=$(node -p 'require("./package.json").version')
  if (cd "$work/java-app" && mvn -q -B -Dstyle.color=never -Dmaven.repo.local="$m2" -Dstaging.repo="$root/dist/java" \
        -Ddeps.repo="$root/node_modules/cdk8s-plus-27/dist/java" -Dcdk8s-istio-source-ip.version="$version" \
        compile exec:java -Dexec.args="$out/java") >"$log/java.log" 2>&1; then
    compare java "$out/java"
  else
    fail "java: consumer app failed" "$log/java.log"
  fi
else
  fail "java: jsii-pacmak failed" "$log/pacmak-java.log"
fi
step_time java
}

# The three languages at once: each step writes only its own dist/<language> and work files (jsii-pacmak packs into
# temporary directories), and Java, the longest, would otherwise wait for the other two.
for lang in python go java; do
  ( step_result=$results/$lang; "step_$lang" ) >"$work/$lang.out" 2>&1 &
done
wait
for lang in python go java; do cat "$work/$lang.out"; done
count_results

echo "multilang: $(( $(date +%s) - total_t0 ))s in all"
summary
if [ "$failed" -eq 0 ]; then
  # Keep the work dir (venv, generated Go modules, outputs, logs) only when something failed, or when asked to.
  [ -z "${MULTILANG_KEEP:-}" ] && [ -z "${MULTILANG_WORK:-}" ] && rm -rf "$work"
  exit 0
fi
exit 1
