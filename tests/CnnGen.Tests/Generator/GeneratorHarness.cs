using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using CnnGen.Generator;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Tests.Generator;

/// <summary>Runs the generator in memory on source text, as the compiler would, and compiles and loads the result.</summary>
public static class GeneratorHarness
{
    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .ToList();
        paths.Add(typeof(NetworkAttribute).Assembly.Location);
        paths.Add(typeof(TensorSet).Assembly.Location);
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    });

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    /// <summary>The assemblies every in-memory compilation references (the BCL, the attributes and the runtime).</summary>
    internal static MetadataReference[] MetadataReferences => References.Value;

    /// <summary>The generator's run over <paramref name="sources"/>, with the driver (for incremental tests).</summary>
    public static (GeneratorDriver Driver, CSharpCompilation Input) Driver(params string[] sources)
    {
        var trees = sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs"));
        var compilation = CSharpCompilation.Create("UserAssembly", trees, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, optimizationLevel: OptimizationLevel.Release));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            new[] { new CnnGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        return (driver, compilation);
    }

    /// <summary>Runs the generator: the output compilation, the generator's diagnostics and the generated files.</summary>
    public static GeneratorResult Run(params string[] sources)
    {
        var (driver, input) = Driver(sources);
        driver = driver.RunGeneratorsAndUpdateCompilation(input, out var output, out var generatorDiagnostics);
        var run = driver.GetRunResult();
        var files = run.Results.SelectMany(r => r.GeneratedSources).ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        return new GeneratorResult((CSharpCompilation)output, generatorDiagnostics, run.Diagnostics, files);
    }

    /// <summary>Generates, compiles and loads an assembly; fails the test on any error (generator or compiler).</summary>
    public static Assembly CompileAndLoad(params string[] sources)
    {
        var result = Run(sources);
        var errors = result.GeneratorDiagnostics.Concat(result.Output.GetDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
        {
            Assert.Fail("compilation failed:\n" + string.Join("\n", errors.Take(20)));
        }

        return LoadCompiled(result);
    }

    /// <summary>Compiles a generator run's output (failing the test on any error) and loads the assembly.</summary>
    public static Assembly LoadCompiled(GeneratorResult result)
    {
        using var stream = new MemoryStream();
        var emit = result.Output.Emit(stream);
        if (!emit.Success)
        {
            Assert.Fail("emit failed:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20)));
        }

        return Assembly.Load(stream.ToArray());
    }

    /// <summary>The models the generator's pipeline built for the networks declared in <paramref name="sources"/>, in declaration order.</summary>
    internal static IReadOnlyList<NetworkModel> Models(params string[] sources)
    {
        var (driver, input) = Driver(sources);
        var run = driver.RunGenerators(input).GetRunResult();
        return run.Results[0].TrackedSteps[CnnGenerator.StepNames.Model].SelectMany(s => s.Outputs).Select(o => (NetworkModel?)o.Value).OfType<NetworkModel>().ToList();
    }

    /// <summary>Compiles sources as they are, without running the generator (generated files passed in), and loads the assembly.</summary>
    public static Assembly CompileWithoutGenerator(IEnumerable<string> sources)
    {
        var trees = sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs"));
        var compilation = CSharpCompilation.Create("UserAssembly", trees, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, optimizationLevel: OptimizationLevel.Release));
        using var stream = new MemoryStream();
        var emit = compilation.Emit(stream);
        if (!emit.Success)
        {
            Assert.Fail("compilation failed:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(20)));
        }

        return Assembly.Load(stream.ToArray());
    }

    /// <summary>Calls the generated static <c>Load(TensorSet, LoadOptions)</c> of a network type.</summary>
    public static INetwork Load(Assembly assembly, string typeName, TensorSet tensors, LoadOptions? options = null)
    {
        var type = assembly.GetType(typeName, throwOnError: true)!;
        var load = type.GetMethod("Load", new[] { typeof(TensorSet), typeof(LoadOptions) })!;
        try
        {
            return (INetwork)load.Invoke(null, new object?[] { tensors, options })!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw ex.InnerException;
        }
    }

    /// <summary>A generated constant of a network type.</summary>
    public static T Constant<T>(Assembly assembly, string typeName, string name) =>
        (T)assembly.GetType(typeName, throwOnError: true)!.GetField(name)!.GetValue(null)!;

    /// <summary>Every vector width the tests force (all run on this machine, in hardware or software).</summary>
    public static readonly VectorWidth[] Widths = { VectorWidth.V128, VectorWidth.V256, VectorWidth.V512 };
}

/// <summary>What one generator run produced.</summary>
public sealed record GeneratorResult(
    CSharpCompilation Output,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> RunDiagnostics,
    IReadOnlyDictionary<string, string> Files);
