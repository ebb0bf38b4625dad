#!/usr/bin/env bash
# Package smoke test: packs the CnnGen NuGet package (src/Package) into a temporary folder, checks its layout, then
# builds and runs a throwaway consumer project against it from that folder, so a packaging mistake fails CI.
#
#   1. dotnet pack src/Package/CnnGen.Package.csproj -c Release -o TMP/feed
#   2. the .nupkg must hold lib/net9.0/CnnGen.Runtime.dll + CnnGen.Attributes.dll (+ .xml),
#      analyzers/dotnet/cs/CnnGen.Generator.dll, README.md and LICENSE, nothing of Roslyn, and no dependencies
#   3. a console project outside the repository (net10.0 and net9.0 with RollForward=Major) with one
#      <PackageReference Include="CnnGen" Version="..."/>, restored into a fresh packages folder (never a cached
#      CnnGen) with CnnGen mapped to the temporary folder only, declares a small network with attributes, loads
#      random weights from memory, predicts and compares with a naive implementation in the consumer itself.
#      If the generator did not run from the package, the build fails (Tiny.Load does not exist).
#
# usage: bash scripts/pack-smoke.sh        (exit code 0 and last line "pack-smoke: OK" on success)
# Set KEEP=1 to keep the temporary folder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROJECT="$ROOT/src/Package/CnnGen.Package.csproj"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cnngen-pack.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then echo "pack-smoke: keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
FEED="$WORK/feed"
PACKAGES="$WORK/packages"
APP="$WORK/consumer"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "pack-smoke: FAIL: $*" >&2; exit 1; }
step() { echo; echo "== $* =="; }
start=$SECONDS

step "pack $PROJECT"
VERSION="$(dotnet msbuild "$PROJECT" -getProperty:PackageVersion 2>/dev/null | tr -d '[:space:]')" || true
[ -n "$VERSION" ] || fail "could not read PackageVersion of $PROJECT"
dotnet pack "$PROJECT" -c Release -o "$FEED" > "$WORK/pack.log" 2>&1 \
  || { grep -E "error|warning" "$WORK/pack.log" | sort -u | head -40 >&2 || tail -40 "$WORK/pack.log" >&2; fail "dotnet pack failed"; }
if grep -E "warning [A-Z]+[0-9]+" "$WORK/pack.log" | sort -u | head -20 >&2; then fail "dotnet pack produced warnings"; fi
NUPKG="$FEED/CnnGen.$VERSION.nupkg"
[ -f "$NUPKG" ] || { ls -l "$FEED" >&2; fail "no $NUPKG"; }
[ "$(find "$FEED" -name '*.nupkg' | wc -l)" -eq 1 ] || { ls -l "$FEED" >&2; fail "expected exactly one package in $FEED"; }
echo "packed $(basename "$NUPKG") ($(stat -c %s "$NUPKG") bytes) in $((SECONDS - start))s"

step "package layout"
unzip -l "$NUPKG" | tee "$WORK/layout.txt"
entries="$(unzip -Z1 "$NUPKG")"
for required in CnnGen.nuspec README.md LICENSE \
  lib/net9.0/CnnGen.Runtime.dll lib/net9.0/CnnGen.Attributes.dll \
  lib/net9.0/CnnGen.Runtime.xml lib/net9.0/CnnGen.Attributes.xml \
  analyzers/dotnet/cs/CnnGen.Generator.dll; do
  grep -qxF "$required" <<< "$entries" || fail "the package lacks $required"
done
if grep -iE "Microsoft\.CodeAnalysis|System\.Collections\.Immutable|System\.Reflection\.Metadata" <<< "$entries"; then
  fail "the package contains Roslyn assemblies"
fi
if grep -E "CnnGen\.Package" <<< "$entries"; then fail "the package contains the packaging project's own assembly"; fi
stray="$(grep -E '\.dll$' <<< "$entries" | grep -vxE 'lib/net9\.0/CnnGen\.(Runtime|Attributes)\.dll|analyzers/dotnet/cs/CnnGen\.Generator\.dll' || true)"
[ -z "$stray" ] || fail "unexpected assemblies in the package: $stray"
unzip -p "$NUPKG" CnnGen.nuspec > "$WORK/CnnGen.nuspec"
nuspec="$WORK/CnnGen.nuspec"
grep -q "<id>CnnGen</id>" "$nuspec" || fail "package id is not CnnGen"
grep -q "<version>$VERSION</version>" "$nuspec" || fail "package version is not $VERSION"
grep -q '<license type="expression">MIT</license>' "$nuspec" || fail "no MIT license expression"
grep -q "<readme>README.md</readme>" "$nuspec" || fail "no readme"
grep -q "<description>..*</description>" "$nuspec" || fail "no description"
grep -q "<tags>..*</tags>" "$nuspec" || fail "no tags"
grep -q "<repository " "$nuspec" || fail "no repository metadata"
grep -q "<projectUrl>" "$nuspec" || fail "no project URL"
if grep -q "<dependency " "$nuspec"; then grep "<dependency " "$nuspec" >&2; fail "the package has dependencies"; fi
if grep -q "<developmentDependency>true" "$nuspec"; then fail "the package is marked as a development dependency"; fi
echo "layout and metadata: ok"

step "throwaway consumer in $APP (net10.0; net9.0 with RollForward=Major)"
mkdir -p "$APP" "$PACKAGES"
xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }
# The machine's enabled package sources (the SDK's own packages, e.g. the net9.0 targeting pack, come from there);
# CnnGen is mapped to the temporary folder only, so a CnnGen on another feed can never be picked.
mapfile -t sources < <(cd "$WORK" && dotnet nuget list source --format Detailed 2>/dev/null \
  | sed -nE 's/^ *[0-9]+\. +(.*) \[Enabled\] *$/\1/p')
{
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo '<configuration>'
  echo "  <config><add key=\"globalPackagesFolder\" value=\"$PACKAGES\" /></config>"
  echo '  <packageSources>'
  echo "    <add key=\"cnngen-pack-smoke\" value=\"$FEED\" />"
  echo '  </packageSources>'
  echo '  <packageSourceMapping>'
  echo '    <packageSource key="cnngen-pack-smoke"><package pattern="CnnGen" /></packageSource>'
  for s in "${sources[@]}"; do
    [ "$s" = cnngen-pack-smoke ] && continue
    echo "    <packageSource key=\"$(xml_escape <<< "$s")\"><package pattern=\"*\" /></packageSource>"
  done
  echo '  </packageSourceMapping>'
  echo '</configuration>'
} > "$APP/nuget.config"

# Stop MSBuild from importing any Directory.Build.* / Directory.Packages.props above the temporary folder.
echo '<Project />' > "$APP/Directory.Build.props"
echo '<Project />' > "$APP/Directory.Build.targets"
echo '<Project />' > "$APP/Directory.Packages.props"

cat > "$APP/Consumer.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFrameworks>net10.0;net9.0</TargetFrameworks>
    <RollForward>Major</RollForward>
    <Nullable>enable</Nullable>
    <ImplicitUsings>disable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <InvariantGlobalization>true</InvariantGlobalization>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
    <NuGetAudit>false</NuGetAudit>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="CnnGen" Version="$VERSION" />
  </ItemGroup>
</Project>
EOF

cat > "$APP/Tiny.cs" <<'EOF'
using CnnGen;

namespace Smoke;

/// <summary>8x8 grey image -> 3x3 conv (4 filters, ReLU) -> 2x2 max pool -> flatten (36) -> dense (3).</summary>
[Network, Input(1, 8, 8), Conv2D(4, 3, Activation = Activation.Relu), MaxPool2D(2), Flatten, Dense(3)]
public partial class Tiny;
EOF

cat > "$APP/Program.cs" <<'EOF'
using System;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using CnnGen;
using Smoke;

var rng = new Random(20260);
float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
float[] w1 = Random(4 * 1 * 3 * 3), b1 = Random(4), w2 = Random(3 * 36), b2 = Random(3), x = Random(64);

var tensors = new TensorSet(new[]
{
    new Tensor("conv1.weight", new[] { 4, 1, 3, 3 }, w1), new Tensor("conv1.bias", new[] { 4 }, b1),
    new Tensor("fc1.weight", new[] { 3, 36 }, w2), new Tensor("fc1.bias", new[] { 3 }, b2),
});
Tiny net = Tiny.Load(tensors);
float[] y = new float[Tiny.OutputSize];
net.Predict(x, y);
INetwork asInterface = net;
int classified = asInterface.Classify(x);

// The same network by hand: conv 3x3 valid + bias + ReLU (4x6x6), max pool 2x2 (4x3x3), CHW flatten, dense.
var pooled = new float[4 * 3 * 3];
for (int c = 0; c < 4; c++)
    for (int py = 0; py < 3; py++)
        for (int px = 0; px < 3; px++)
        {
            float best = float.NegativeInfinity;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++)
                {
                    int oy = py * 2 + dy, ox = px * 2 + dx;
                    double s = b1[c];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                            s += w1[c * 9 + ky * 3 + kx] * x[(oy + ky) * 8 + ox + kx];
                    best = Math.Max(best, (float)Math.Max(s, 0));
                }
            pooled[c * 9 + py * 3 + px] = best;
        }
var expected = new float[3];
for (int o = 0; o < 3; o++)
{
    double s = b2[o];
    for (int i = 0; i < 36; i++) s += w2[o * 36 + i] * pooled[i];
    expected[o] = (float)s;
}

string Show(float[] v) => string.Join(", ", v.Select(f => f.ToString("F6", CultureInfo.InvariantCulture)));
Console.WriteLine(Tiny.Summary);
Console.WriteLine($"runtime:  {RuntimeInformation.FrameworkDescription}, built for {AppContext.TargetFrameworkName}, vector width {net.VectorWidth}");
Console.WriteLine($"output:   [{Show(y)}]");
Console.WriteLine($"expected: [{Show(expected)}]");

int failures = 0;
void Check(bool ok, string what) { if (!ok) { Console.Error.WriteLine("consumer: FAIL: " + what); failures++; } }
Check(Tiny.InputSize == 64, $"InputSize {Tiny.InputSize}, expected 64");
Check(Tiny.OutputSize == 3 && y.Length == 3, $"OutputSize {Tiny.OutputSize}, expected 3");
Check(Tiny.ParameterCount == 4 * 9 + 4 + 3 * 36 + 3, $"ParameterCount {Tiny.ParameterCount}, expected 151");
Check(y.All(float.IsFinite), "output is not finite");
for (int i = 0; i < 3; i++)
    Check(Math.Abs(y[i] - expected[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"output[{i}] = {y[i]}, expected {expected[i]}");
int argmax = Array.IndexOf(expected, expected.Max());
Check(classified == argmax, $"Classify gave {classified}, expected {argmax}");
Check(Tiny.Summary.Contains("conv1") && Tiny.Summary.Contains("fc1"), "Summary does not name conv1 and fc1");
Console.WriteLine(failures == 0 ? "consumer: OK" : $"consumer: {failures} check(s) failed");
return failures == 0 ? 0 : 1;
EOF

t=$SECONDS
(cd "$APP" && dotnet restore Consumer.csproj --packages "$PACKAGES" > "$WORK/restore.log" 2>&1) \
  || { grep -E "error|warning" "$WORK/restore.log" | sort -u | head -40 >&2 || tail -40 "$WORK/restore.log" >&2; fail "restoring the consumer failed"; }
echo "restored in $((SECONDS - t))s"
restored="$PACKAGES/cnngen/$VERSION"
[ -f "$restored/cnngen.$VERSION.nupkg" ] || fail "CnnGen $VERSION was not restored into $PACKAGES"
cmp -s "$restored/cnngen.$VERSION.nupkg" "$NUPKG" || fail "the restored CnnGen $VERSION is not the package just packed"
grep -q '"CnnGen/'"$VERSION"'"' "$APP/obj/project.assets.json" || fail "project.assets.json does not list CnnGen/$VERSION"
if grep -q 'Microsoft.CodeAnalysis' "$APP/obj/project.assets.json"; then fail "the consumer pulled Roslyn packages through CnnGen"; fi

t=$SECONDS
(cd "$APP" && dotnet build Consumer.csproj -c Release --no-restore > "$WORK/build.log" 2>&1) \
  || { grep -E "error|warning" "$WORK/build.log" | sort -u | head -40 >&2 || tail -40 "$WORK/build.log" >&2
       fail "building the consumer failed (a missing Tiny.Load means the generator did not run from the package)"; }
if grep -E "warning [A-Z]+[0-9]+" "$WORK/build.log" | sort -u | head -20 >&2; then fail "the consumer build produced warnings"; fi
echo "built net10.0 and net9.0 in $((SECONDS - t))s"

for tfm in net10.0 net9.0; do
  step "run the consumer ($tfm)"
  dll="$APP/bin/Release/$tfm/Consumer.dll"
  [ -f "$dll" ] || fail "no $dll"
  [ -f "$APP/bin/Release/$tfm/CnnGen.Runtime.dll" ] && [ -f "$APP/bin/Release/$tfm/CnnGen.Attributes.dll" ] \
    || fail "$tfm: CnnGen.Runtime.dll / CnnGen.Attributes.dll not copied to the output"
  [ -f "$APP/bin/Release/$tfm/CnnGen.Generator.dll" ] && fail "$tfm: the generator was copied to the output (referenced as a library)"
  dotnet "$dll" > "$WORK/run-$tfm.txt" 2>&1 || { cat "$WORK/run-$tfm.txt" >&2; fail "the $tfm consumer failed"; }
  cat "$WORK/run-$tfm.txt"
  grep -q "^consumer: OK$" "$WORK/run-$tfm.txt" || fail "the $tfm consumer did not report OK"
done

echo
echo "pack-smoke: CnnGen $VERSION packed, consumed from a local folder by net10.0 and net9.0, in $((SECONDS - start))s"
echo "pack-smoke: OK"
