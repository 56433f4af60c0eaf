#!/usr/bin/env bash
# Compares the public API (.jsii, left by the main build) with the last version published to npm, so that a
# breaking change is deliberate: jsii-diff fails on removed or incompatibly changed stable APIs. Until a version is
# published there is nothing to compare with, and the check says so and passes.
set -uo pipefail
cd "$(dirname "$0")/.."
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

name=$(node -p 'require("./package.json").name')
# JSII_DIFF_BASELINE (an assembly directory, a .jsii file or npm:name@version) overrides the published version.
if [ -n "${JSII_DIFF_BASELINE:-}" ]; then
  baseline=$JSII_DIFF_BASELINE
elif ! published=$(npm view "$name" version 2>/dev/null) || [ -z "$published" ]; then
  echo "jsii-diff: skipped: $name has no version on the npm registry yet (npm view $name version failed), so there is no published API to compare with"
  exit 0
else
  baseline="npm:$name@$published"
fi
if [ ! -f .jsii ]; then
  echo "jsii-diff: no .jsii: run the build (npx projen compile) first"
  exit 1
fi
echo "jsii-diff: comparing this build's API with $baseline"
# Reviewed, deliberate breaks go into .compatignore (one jsii-diff violation key per line).
ignore=()
[ -f .compatignore ] && ignore=(--ignore-file .compatignore)
npx jsii-diff "$baseline" . --keys "${ignore[@]}"
