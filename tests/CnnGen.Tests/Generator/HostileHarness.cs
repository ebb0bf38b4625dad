using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using CnnGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Tests.Generator;

/// <summary>
/// A hostile declaration and what must come of it. Whatever the declaration, the generator must never fail
/// (CNN0099, an analyzer exception, a duplicate hint name) and never write code with an error or a warning.
/// </summary>
public sealed record HostileCase
{
    /// <summary>What the case tries, for failure messages.</summary>
    public required string Name { get; init; }

    /// <summary>One source file each. Unless <see cref="Raw"/>, each is preceded by <c>using CnnGen;</c> and a namespace of the case's own.</summary>
    public required string[] Sources { get; init; }

    /// <summary>
    /// <c>null</c>: it compiles cleanly or a CnnGen error says why not. <see cref="Compiles"/>: no CnnGen error and no
    /// compiler error. A diagnostic ID: that CnnGen diagnostic is reported.
    /// </summary>
    public string? Expect { get; init; }

    /// <summary>Compiler errors the declaration causes by itself (<c>CS0579</c>...), tolerated in the user's files.</summary>
    public string[] UserErrors { get; init; } = [];

    /// <summary>
    /// An expression using the generated API (<c>Net.InputSize</c>), written into the first file. It must compile when
    /// no CnnGen error was reported: generated members that land on another type than the user's are caught here.
    /// </summary>
    public string? Use { get; init; }

    /// <summary>The sources are whole files (their own usings and namespaces); such cases run alone.</summary>
    public bool Raw { get; init; }

    public const string Compiles = "compiles";

    public override string ToString() => Name;
}

/// <summary>
/// Runs many hostile declarations through the generator in a few compilations (each case in its own files and
/// namespace, so diagnostics, generated files and compiler errors map back to it), with XML documentation diagnosed as
/// a project with <c>GenerateDocumentationFile</c> would.
/// </summary>
public static class HostileHarness
{
    private static readonly CSharpParseOptions Options = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    private static readonly Regex CaseFile = new(@"^Case(\d+)_", RegexOptions.CultureInvariant);
    private static readonly Regex CaseHint = new(@"^Case(\d+)\.", RegexOptions.CultureInvariant);

    /// <summary>Cases checked and how they ended, for the test log.</summary>
    public sealed record Outcome(int Cases, int Compiled, int Reused, int Diagnosed, Dictionary<string, int> Ids, TimeSpan Time, TimeSpan Generator, TimeSpan Compiler);

    /// <summary>CPU time (the machine is shared, so wall time says little) of the generator runs and of the compilations.</summary>
    private static readonly CpuWatch GeneratorTime = new(), CompilerTime = new();

    /// <summary>
    /// Generated code (namespaces normalized) already compiled without a problem. A declaration generating the same
    /// code again (an argument that changes nothing, a default spelled out) is not compiled again: binding the kernels
    /// is nearly all of the suite's time.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> CleanCode = new(StringComparer.Ordinal);

    /// <summary>What differs between the same code generated for two cases: the case's namespace, and the spec hash (which covers arguments that change no code).</summary>
    private static readonly Regex Incidental = new(@"\bCase\d+\b|// Spec hash: \S+", RegexOptions.CultureInvariant);

    private static int _reused;

    /// <summary>Checks every case; returns one line per failure (empty when all hold).</summary>
    public static List<string> Check(IReadOnlyList<HostileCase> cases, out Outcome outcome, int batchSize = 48)
    {
        var watch = new CpuWatch();
        watch.Start();
        GeneratorTime.Reset();
        CompilerTime.Reset();
        _reused = 0;
        var failures = new List<string>();
        var verdicts = new List<Verdict>();
        var batched = cases.Where(c => !c.Raw).ToList();
        for (int start = 0; start < batched.Count; start += batchSize)
        {
            var batch = batched.Skip(start).Take(batchSize).ToList();
            var (results, global) = RunBatch(batch);
            if (global.Count > 0 && batch.Count > 1)
            {
                // Something failed the whole run: find the case(s) by running each alone.
                foreach (var c in batch)
                {
                    var (one, oneGlobal) = RunBatch(new List<HostileCase> { c });
                    verdicts.Add(oneGlobal.Count > 0 ? Verdict.Failed(c, string.Join("; ", oneGlobal)) : one[0]);
                }
            }
            else
            {
                verdicts.AddRange(global.Count > 0 ? batch.Select(c => Verdict.Failed(c, string.Join("; ", global))) : results);
            }
        }

        foreach (var c in cases.Where(c => c.Raw))
        {
            var (one, global) = RunBatch(new List<HostileCase> { c });
            verdicts.Add(global.Count > 0 ? Verdict.Failed(c, string.Join("; ", global)) : one[0]);
        }

        failures.AddRange(verdicts.Where(v => v.Failure is not null).Select(v => $"{v.Case.Name}: {v.Failure}"));
        var ids = verdicts.SelectMany(v => v.CnnErrors).GroupBy(id => id).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        outcome = new Outcome(cases.Count, verdicts.Count(v => v.CnnErrors.Count == 0), _reused, verdicts.Count(v => v.CnnErrors.Count > 0), ids, watch.Stop(), GeneratorTime.Elapsed, CompilerTime.Elapsed);
        return failures;
    }

    /// <summary>Writes an outcome to the test log.</summary>
    public static void Log(Outcome o) =>
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{o.Cases} cases in {o.Time.TotalSeconds:F1} s of CPU (generator {o.Generator.TotalSeconds:F1} s, compiler {o.Compiler.TotalSeconds:F1} s): {o.Compiled} compiled ({o.Reused} of them the same code as another), {o.Diagnosed} diagnosed ({string.Join(", ", o.Ids.Select(kv => kv.Key + " x" + kv.Value))})"));

    private sealed record Verdict(HostileCase Case, string? Failure, List<string> CnnErrors)
    {
        public static Verdict Failed(HostileCase c, string why) => new(c, why, new List<string>());
    }

    private static (List<Verdict> Results, List<string> Global) RunBatch(List<HostileCase> batch)
    {
        var trees = new List<SyntaxTree>();
        var useStart = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < batch.Count; i++)
        {
            var c = batch[i];
            for (int j = 0; j < c.Sources.Length; j++)
            {
                var text = new StringBuilder();
                if (!c.Raw)
                {
                    text.Append("using CnnGen;\nnamespace Case").Append(i.ToString(CultureInfo.InvariantCulture)).Append(";\n");
                }

                text.Append(c.Sources[j]).Append('\n');
                string path = $"Case{i.ToString(CultureInfo.InvariantCulture)}_{j.ToString(CultureInfo.InvariantCulture)}.cs";
                if (j == 0 && c.Use is { } use)
                {
                    useStart[path] = text.Length;
                    text.Append("file static class HostileUse { public static object Touch() => ").Append(use).Append("; }\n");
                }

                trees.Add(CSharpSyntaxTree.ParseText(text.ToString(), Options, path));
            }
        }

        var compilation = CSharpCompilation.Create("Hostile", trees, GeneratorHarness.MetadataReferences,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new CnnGenerator().AsSourceGenerator() }, parseOptions: Options);
        GeneratorTime.Start();
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        GeneratorTime.Stop();
        var run = driver.GetRunResult();

        var global = new List<string>();
        foreach (var r in run.Results.Where(r => r.Exception is not null))
        {
            global.Add("generator exception: " + r.Exception!.GetType().Name + ": " + r.Exception.Message);
        }

        var perCase = batch.Select(_ => new List<Diagnostic>()).ToList();
        var generatedFiles = batch.Select(_ => 0).ToArray();
        int CaseOf(string path, bool generated)
        {
            if (batch.Count == 1)
            {
                return 0;
            }

            var m = (generated ? CaseHint : CaseFile).Match(Path.GetFileName(path));
            return m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
        }

        var code = batch.Select(_ => new StringBuilder()).ToArray();
        foreach (var s in run.Results.SelectMany(r => r.GeneratedSources).OrderBy(s => s.HintName, StringComparer.Ordinal))
        {
            int c = CaseOf(s.HintName, generated: true);
            if (c < 0)
            {
                global.Add("generated file of no case: " + s.HintName);
            }
            else
            {
                generatedFiles[c]++;
                code[c].Append(s.HintName).Append('\n').Append(s.SourceText);
            }
        }

        var generatedPaths = new HashSet<string>(output.SyntaxTrees.Skip(trees.Count).Select(t => t.FilePath), StringComparer.Ordinal);
        foreach (var d in generatorDiagnostics.Concat(run.Diagnostics).Distinct())
        {
            if (!d.Id.StartsWith("CNN", StringComparison.Ordinal) || d.Id == "CNN0099" || !d.Location.IsInSource && d.Location.Kind != LocationKind.ExternalFile)
            {
                if (d.Severity >= DiagnosticSeverity.Warning)
                {
                    global.Add($"{d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}");
                }

                continue;
            }

            int c = CaseOf(d.Location.GetLineSpan().Path, generated: false);
            if (c < 0)
            {
                global.Add("diagnostic of no case: " + d);
            }
            else
            {
                perCase[c].Add(d);
            }
        }

        // Cases whose generated code is known to compile, or is the same as another case's in this batch, are left out
        // of the compilation (only those that expect nothing in particular and got no CnnGen error).
        var keys = code.Select(c => Incidental.Replace(c.ToString(), "~")).ToArray();
        var sameAs = new int[batch.Count];
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < batch.Count; i++)
        {
            sameAs[i] = -1;
            if (batch[i].Expect is not null || batch[i].Raw || generatedFiles[i] == 0 || perCase[i].Any(d => d.Severity == DiagnosticSeverity.Error))
            {
                continue;
            }

            if (CleanCode.ContainsKey(keys[i]))
            {
                sameAs[i] = i;
            }
            else if (first.TryGetValue(keys[i], out int j))
            {
                sameAs[i] = j;
            }
            else
            {
                first.Add(keys[i], i);
            }
        }

        _reused += sameAs.Count(i => i >= 0);
        var leftOut = output.SyntaxTrees.Where(t => CaseOf(t.FilePath, generatedPaths.Contains(t.FilePath)) is int c && c >= 0 && sameAs[c] >= 0 && batch.Count > 1).ToList();
        CompilerTime.Start();
        var compilerDiagnostics = output.RemoveSyntaxTrees(leftOut).GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        CompilerTime.Stop();
        var verdicts = new List<Verdict>();
        for (int i = 0; i < batch.Count; i++)
        {
            verdicts.Add(sameAs[i] < 0 || batch.Count == 1 ? Judge(batch[i], i, perCase[i], generatedFiles[i], compilerDiagnostics, generatedPaths, useStart, CaseOf) : null!);
        }

        for (int i = 0; i < batch.Count; i++)
        {
            if (verdicts[i] is null)
            {
                var same = sameAs[i] == i ? null : verdicts[sameAs[i]];
                verdicts[i] = new Verdict(batch[i], same?.Failure is { } f ? $"(the same code as {same.Case.Name}) {f}" : null, new List<string>());
            }
            else if (verdicts[i].Failure is null && generatedFiles[i] > 0 && !batch[i].Raw)
            {
                CleanCode.TryAdd(keys[i], true);
            }
        }

        return (verdicts, global);
    }

    private static Verdict Judge(HostileCase c, int index, List<Diagnostic> cnn, int generatedFiles, List<Diagnostic> compiler,
        HashSet<string> generatedPaths, Dictionary<string, int> useStart, Func<string, bool, int> caseOf)
    {
        var cnnErrors = cnn.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id).ToList();
        var mine = compiler.Where(d => d.Location.SourceTree is { } t && caseOf(t.FilePath, generatedPaths.Contains(t.FilePath)) == index).ToList();
        var inGenerated = mine.Where(d => generatedPaths.Contains(d.Location.SourceTree!.FilePath)).ToList();
        var userIds = new HashSet<string>(mine.Where(d => !generatedPaths.Contains(d.Location.SourceTree!.FilePath)).Select(d => d.Id), StringComparer.Ordinal);

        // A warning the user's own declaration also gets (CS8981 on a lowercase class name) is the user's, not the generator's.
        var generatedProblems = inGenerated.Where(d => d.Severity == DiagnosticSeverity.Error || !userIds.Contains(d.Id)).ToList();
        if (generatedProblems.Count > 0)
        {
            return new Verdict(c, "generated code has " + Describe(generatedProblems), cnnErrors);
        }

        bool InUse(Diagnostic d) => useStart.TryGetValue(d.Location.SourceTree!.FilePath, out int s) && d.Location.SourceSpan.Start >= s;
        var userErrors = mine.Where(d => d.Severity == DiagnosticSeverity.Error && !generatedPaths.Contains(d.Location.SourceTree!.FilePath)).ToList();
        var unexpected = userErrors.Where(d => !c.UserErrors.Contains(d.Id) && !(cnnErrors.Count > 0 && InUse(d))).ToList();
        string cnnText = cnn.Count == 0 ? "no CnnGen diagnostic" : string.Join("; ", cnn.Select(d => d.Id + ": " + d.GetMessage(CultureInfo.InvariantCulture)));
        if (c.Expect is { } expect && expect != HostileCase.Compiles && !cnnErrors.Contains(expect))
        {
            return new Verdict(c, $"expected {expect}, got {cnnText}; compiler: {Describe(userErrors)}", cnnErrors);
        }

        if (c.Expect == HostileCase.Compiles && cnnErrors.Count > 0)
        {
            return new Verdict(c, "expected to compile, got " + cnnText, cnnErrors);
        }

        if (cnnErrors.Count > 0 && generatedFiles > 0)
        {
            return new Verdict(c, "code was generated despite " + cnnText, cnnErrors);
        }

        if (unexpected.Count > 0 && (cnnErrors.Count == 0 || c.Expect == HostileCase.Compiles))
        {
            return new Verdict(c, $"compiler errors without a CnnGen error: {Describe(unexpected)} ({cnnText})", cnnErrors);
        }

        return new Verdict(c, null, cnnErrors);
    }

    private static string Describe(List<Diagnostic> diagnostics) =>
        diagnostics.Count == 0 ? "none" : diagnostics.Count + " (" + string.Join("; ", diagnostics.Take(4).Select(d => $"{d.Id} {Path.GetFileName(d.Location.SourceTree?.FilePath)}: {d.GetMessage(CultureInfo.InvariantCulture)}")) + ")";
}

/// <summary>The process's CPU time over intervals (all threads).</summary>
internal sealed class CpuWatch
{
    private TimeSpan _start;

    public TimeSpan Elapsed { get; private set; }

    public void Start() => _start = Process.GetCurrentProcess().TotalProcessorTime;

    public TimeSpan Stop()
    {
        Elapsed += Process.GetCurrentProcess().TotalProcessorTime - _start;
        return Elapsed;
    }

    public void Reset() => Elapsed = TimeSpan.Zero;
}
