using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using CnnGen.Generator;
using CnnGen.Tests.Zoo;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Tests.Zoo.Report;

/// <summary>
/// The generator at scale, in memory as the compiler runs it (GeneratorHarness's references, no step tracking): the
/// generator's own time (Roslyn's timing info) on its first run in a fresh process (cold: JIT of the generator
/// included) and the median of five more (warm, as in the compiler server), the generated source per file, and from
/// the emitted assembly the methods and the largest IL body per class.
/// </summary>
internal static partial class GeneratorReport
{
    private const int WarmRuns = 5;

    private static readonly string[] Widths = ["Kernels128", "Kernels256", "Kernels512"];

    public static void Measure(ZooNetwork network)
    {
        string source = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "declarations", network.SourceFile));
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var tree = CSharpSyntaxTree.ParseText(source, parse, path: network.SourceFile);
        var compilation = CSharpCompilation.Create("Zoo" + network.Type.Name, [tree], References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, optimizationLevel: OptimizationLevel.Release));

        var times = new List<(double Generator, double Wall, double Cpu)>();
        GeneratorDriver? driver = null;
        for (int run = 0; run <= WarmRuns; run++)
        {
            driver = CSharpGeneratorDriver.Create([new CnnGenerator().AsSourceGenerator()], parseOptions: parse);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            driver = driver.RunGenerators(compilation);
            double wall = clock.Elapsed.TotalMilliseconds;
            times.Add((driver.GetTimingInfo().GeneratorTimes.Single().ElapsedTime.TotalMilliseconds, wall, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds));
        }

        var result = driver!.GetRunResult();
        if (result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
        {
            throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
        }

        Console.WriteLine($"layers={SummaryRows(network.Summary)}");
        Console.WriteLine($"generator_cold_ms={times[0].Generator:F0}");
        Console.WriteLine($"wall_cold_ms={times[0].Wall:F0}");
        Console.WriteLine($"generator_warm_ms={Median(times.Skip(1).Select(t => t.Generator)):F0}");
        Console.WriteLine($"wall_warm_ms={Median(times.Skip(1).Select(t => t.Wall)):F0}");
        Console.WriteLine($"cpu_cold_ms={times[0].Cpu:F0}");
        Console.WriteLine($"cpu_warm_ms={Median(times.Skip(1).Select(t => t.Cpu)):F0}");
        foreach (var file in result.Results.Single().GeneratedSources)
        {
            string text = file.SourceText.ToString();
            Console.WriteLine($"source_{FileKey(file.HintName, network.Type.Name)}={Encoding.UTF8.GetByteCount(text)}");
            Console.WriteLine($"lines_{FileKey(file.HintName, network.Type.Name)}={text.Count(c => c == '\n')}");
            var (methods, distinct, distinctBytes) = DistinctMethods(text);
            Console.WriteLine($"distinct_{FileKey(file.HintName, network.Type.Name)}={distinct}/{methods}:{distinctBytes}");
        }

        var output = compilation.AddSyntaxTrees(result.GeneratedTrees);
        using var image = new MemoryStream();
        var emitCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var emitClock = Stopwatch.StartNew();
        var emit = output.Emit(image);
        Console.WriteLine($"emit_ms={emitClock.Elapsed.TotalMilliseconds:F0}");
        Console.WriteLine($"emit_cpu_ms={(Process.GetCurrentProcess().TotalProcessorTime - emitCpu).TotalMilliseconds:F0}");
        if (!emit.Success)
        {
            throw new InvalidOperationException(string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10)));
        }

        Console.WriteLine($"assembly_bytes={image.Length}");
        image.Position = 0;
        // Compiler-generated closures (<>c__DisplayClass...) count with the class that declares them.
        var byClass = ILSizes.OfNetwork(ILSizes.Read(image), network.Type.Name).Values.SelectMany(b => b)
            .GroupBy(b => string.Join('.', b.Type.Split('.').TakeWhile(part => !part.StartsWith('<'))));
        foreach (var group in byClass)
        {
            var bodies = group.ToList();
            string key = group.Key == network.Type.Name ? "shell" : group.Key[(network.Type.Name.Length + 1)..];
            var largest = bodies.MaxBy(b => b.Bytes)!;
            Console.WriteLine($"methods_{key}={bodies.Count}");
            Console.WriteLine($"il_{key}={bodies.Sum(b => b.Bytes)}");
            Console.WriteLine($"largest_{key}={largest.Bytes}:{largest.Method}");
        }
    }

    public static void Print(IReadOnlyList<ZooNetwork> networks)
    {
        var rows = networks.Select(n => (Network: n, V: Program.Values(Program.Child("generator-one", n.Model)))).ToList();
        Console.WriteLine("### Generator time and generated source");
        Console.WriteLine();
        Console.WriteLine($"(load average {Program.LoadAverage()} on {Environment.ProcessorCount} cores when the table was printed)");
        Console.WriteLine();
        Console.WriteLine("| network | layers | generator, cold: Roslyn timing / CPU (ms) | generator, warm: Roslyn timing / CPU (ms) | shell (.g.cs) | Kernels128 | Kernels256 | Kernels512 | total source | in-memory compile (emit): wall / CPU (s) | assembly |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (n, v) in rows)
        {
            long total = v.Where(p => p.Key.StartsWith("source_", StringComparison.Ordinal)).Sum(p => long.Parse(p.Value));
            Console.WriteLine($"| {n.Model} | {v["layers"]} | {v["generator_cold_ms"]} / {v["cpu_cold_ms"]} | {v["generator_warm_ms"]} / {v["cpu_warm_ms"]} | {Source(v, "shell")} | {Source(v, "Kernels128")} | {Source(v, "Kernels256")} | {Source(v, "Kernels512")} | {Program.Kb(total)} | {double.Parse(v["emit_ms"]) / 1000:F1} / {double.Parse(v["emit_cpu_ms"]) / 1000:F1} | {Program.Kb(long.Parse(v["assembly_bytes"]))} |");
        }

        Console.WriteLine();
        Console.WriteLine("### Repetition: distinct kernel methods (layer names and comments ignored)");
        Console.WriteLine();
        Console.WriteLine("| network | Kernels128 | Kernels256 | Kernels512 |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (n, v) in rows)
        {
            Console.WriteLine($"| {n.Model} | " + string.Join(" | ", Widths.Select(w => Distinct(v, w))) + " |");
        }

        Console.WriteLine();
        Console.WriteLine("### Methods and IL");
        Console.WriteLine();
        Console.WriteLine("| network | methods: shell / 128 / 256 / 512 | IL: shell / 128 / 256 / 512 | largest method: shell | largest: Kernels128 | largest: Kernels256 | largest: Kernels512 |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var (n, v) in rows)
        {
            string[] keys = ["shell", .. Widths];
            Console.WriteLine($"| {n.Model} | {string.Join(" / ", keys.Select(k => v[$"methods_{k}"]))} | {string.Join(" / ", keys.Select(k => Program.Kb(long.Parse(v[$"il_{k}"]))))} | "
                + string.Join(" | ", keys.Select(k => Largest(v[$"largest_{k}"]))) + " |");
        }

        Console.WriteLine();
    }

    private static string Source(Dictionary<string, string> v, string key) =>
        $"{Program.Kb(long.Parse(v[$"source_{key}"]))} ({long.Parse(v[$"lines_{key}"]):N0} lines)";

    private static string Distinct(Dictionary<string, string> v, string key)
    {
        var parts = v[$"distinct_{key}"].Split(':');
        long bytes = long.Parse(parts[1]);
        long total = long.Parse(v[$"source_{key}"]);
        return $"{parts[0]} methods, {Program.Kb(bytes)} of {Program.Kb(total)} ({100.0 * bytes / total:F0}%)";
    }

    /// <summary>
    /// Kernel methods (each starts at its <c>[MethodImpl</c>) and how many stay distinct once the identifiers derived from
    /// layer names are replaced (a step's methods are <c>{Step}</c> and <c>{Step}Tile{n}</c>) and comments dropped: what
    /// emitting one method per distinct body would keep.
    /// </summary>
    private static (int Methods, int Distinct, long DistinctBytes) DistinctMethods(string source)
    {
        var chunks = MethodStart().Split(source).Skip(1).ToArray();
        var steps = chunks.Select(c => MethodName().Match(c)).Where(m => m.Success)
            .Select(m => TileSuffix().Replace(m.Groups[1].Value, string.Empty))
            .Distinct().OrderByDescending(s => s.Length).ToArray();
        if (chunks.Length == 0 || steps.Length == 0)
        {
            return (0, 0, 0);
        }

        var stepNames = new Regex(@"\b(?:" + string.Join("|", steps.Select(Regex.Escape)) + @")(?=Tile\d|\b)");
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string chunk in chunks)
        {
            string normalized = stepNames.Replace(Comment().Replace(chunk, string.Empty), "Step");
            seen.TryAdd(normalized, Encoding.UTF8.GetByteCount(chunk));
        }

        return (chunks.Length, seen.Count, seen.Values.Sum());
    }

    [GeneratedRegex(@"\n(?=\s*\[[\w.:]*MethodImpl\(Hot\)\])")]
    private static partial Regex MethodStart();

    [GeneratedRegex(@"static \w+ (\w+)\(")]
    private static partial Regex MethodName();

    [GeneratedRegex(@"Tile\d+$")]
    private static partial Regex TileSuffix();

    [GeneratedRegex(@"[ \t]*//[^\n]*")]
    private static partial Regex Comment();

    private static string Largest(string value)
    {
        var parts = value.Split(':', 2);
        return $"{long.Parse(parts[0]):N0} B `{parts[1]}`";
    }

    private static string FileKey(string hint, string type)
    {
        // CnnGen.Tests.Zoo.ResNet50.g.cs -> shell; CnnGen.Tests.Zoo.ResNet50.Kernels256.g.cs -> Kernels256
        string name = hint.EndsWith(".g.cs", StringComparison.Ordinal) ? hint[..^5] : hint;
        string last = name[(name.LastIndexOf('.') + 1)..];
        return last == type ? "shell" : last;
    }

    private static int SummaryRows(string summary)
    {
        var lines = summary.Split('\n');
        int start = Array.FindIndex(lines, l => l.StartsWith("---", StringComparison.Ordinal)) + 1;
        int end = Array.FindIndex(lines, start, l => l.StartsWith("===", StringComparison.Ordinal));
        return end - start;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static MetadataReference[] References()
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .ToList();
        paths.Add(typeof(NetworkAttribute).Assembly.Location);
        paths.Add(typeof(TensorSet).Assembly.Location);
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    }
}
