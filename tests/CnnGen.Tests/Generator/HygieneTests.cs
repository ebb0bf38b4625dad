using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Tests.Generator;

/// <summary>
/// Generated code lives in the user's namespace and partial class, where the user may declare anything. It must
/// compile, and every name in it must bind to the BCL, the CnnGen runtime or the generated code itself, never to a
/// user's type or member that happens to share a name.
/// </summary>
public sealed class HygieneTests
{
    /// <summary>Types generated code uses (or could be tempted to use) by a short name.</summary>
    private static readonly string[] Decoys =
    {
        "Guard", "Buffers", "Packing", "Transpose", "WeightReader", "Parallelism", "BatchSlice", "Simd", "Vector", "Vector64", "Vector128", "Vector256", "Vector512",
        "MemoryMarshal", "Unsafe", "MethodImpl", "MethodImplAttribute", "MethodImplOptions", "Math", "MathF", "Span", "ReadOnlySpan", "Memory",
        "ReadOnlyMemory", "Array", "Environment", "ThreadStatic", "ThreadStaticAttribute", "GC", "ArgumentException", "ArgumentOutOfRangeException",
        "GeneratedCode", "GeneratedCodeAttribute", "Stream", "IOException", "ArithmeticException", "ValueTuple", "INetwork", "LoadOptions", "TensorSet", "Tensor", "VectorWidth", "WeightsException",
        "Internal", "System", "CnnGen", "Runtime", "Intrinsics", "CompilerServices", "InteropServices", "IO", "Exception", "Object", "String",
        "Int32", "Single", "Boolean", "Func", "Action", "UIntPtr", "IntPtr", "Reference",
    };

    /// <summary>Networks that between them reach every kernel family and every path of the class shell.</summary>
    private static readonly string[] Networks =
    {
        SnapshotTests.LeNet5, SnapshotTests.ResidualBlock, SnapshotTests.MobileNetBlock, SnapshotTests.DepthwiseSeparable, SnapshotTests.SqueezeExcitation,
        """
        [Network, Input(1, 28, 28), Flatten, Dense(64, Activation = Activation.Relu), Dense(10, Activation = Activation.Softmax)]
        public partial class Mlp;
        """,
        """
        [Network, Input(3, 12, 12), Conv2D(4, 3, Padding = 1, Activation = Activation.Relu), BatchNorm2D, Sigmoid, LeakyReLU(0.2f), Tanh]
        [AvgPool2D(2), Conv2D(6, 1, Activation = Activation.SiLU), MaxPool2D(2), GlobalMaxPool2D, Flatten, Dense(5, Bias = false)]
        public partial class Mixed;
        """,
        """
        [Network, Input(2, 10, 10), Conv2D(3, 3, Padding = 1), MaxPool2D(3, Stride = 2, Padding = 1), Conv2D(5, 1)]
        public partial class Spatial;
        """,
        Long,
    };

    /// <summary>Shared kernels and loaders, and a forward pass in parts: 66 identical convolutions.</summary>
    private static string Long => "[Network, Input(4, 3, 3)]\n"
        + string.Concat(Enumerable.Range(0, 66).Select(i => $"[Conv2D(4, 1, Name = \"c{i}\")]\n"))
        + "public partial class Long;";

    /// <summary>What a user's part of a network class may declare: members named like the types and keywords generated code uses.</summary>
    private static string UserPart(string className) => $$"""
        public partial class {{className}}
        {
            private static int Unsafe = 1, MemoryMarshal = 2, Math = 3, Guard = 4, Buffers = 5, Packing = 6, Transpose = 7, Simd = 8, Array = 9, Span = 10;
            private int _;
            private static int nameof(object o) => 0;
            private static void Vector256() { }
            private static void Vector512() { }
            private static void Vector128() { }
            private sealed class MethodImplOptions { }
            private sealed class ThreadStaticAttribute : global::System.Attribute { }
            private sealed class ReadOnlySpan { }
            private sealed class WeightReader { }
            private sealed class Parallelism { }
            public int Touch() => _ + Unsafe + MemoryMarshal + Math + Guard + Buffers + Packing + Transpose + Simd + Array + Span + nameof(this);
        }
        """;

    private static string Body(string declaration) => string.Join("\n", declaration.Split('\n').Where(l => !l.StartsWith("using ", System.StringComparison.Ordinal) && !l.StartsWith("namespace ", System.StringComparison.Ordinal)));

    private static string ClassName(string declaration) => declaration.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("public partial class ", System.StringComparison.Ordinal))["public partial class ".Length..].TrimEnd(';');

    [Test]
    public void User_types_and_members_named_like_what_generated_code_uses_change_nothing()
    {
        string decoys = string.Join("\n", Decoys.Select(d => $"public static class {d} {{ public static int Add = 0; }}"))
            + "\npublic struct Vector128<T> { }\npublic struct Vector256<T> { }\npublic struct Vector512<T> { }\npublic struct Span<T> { }\npublic struct ReadOnlySpan<T> { }\n"
            // An extension method closer than the BCL's: a store written as value.StoreUnsafe(...) would compile and call it.
            + "public static class Decoy\n{\n"
            + string.Join("\n", new[] { 128, 256, 512 }.Select(b => $"    public static void StoreUnsafe(this global::System.Runtime.Intrinsics.Vector{b}<float> v, ref float d, nuint o) {{ }}\n    public static void StoreUnsafe(this global::System.Runtime.Intrinsics.Vector{b}<float> v, ref float d) {{ }}"))
            + "\n}\n";
        string source = "using CnnGen;\nnamespace Hostile\n{\n" + decoys + string.Join("\n", Networks.Select(n => Body(n) + "\n" + UserPart(ClassName(n)))) + "\n}\n";
        AssertCleanAndBoundOutsideUserCode(source, Networks.Length);
    }

    [Test]
    public void Networks_named_like_runtime_and_BCL_types_compile()
    {
        string[] names = { "Guard", "Buffers", "Packing", "Transpose", "WeightReader", "Parallelism", "BatchSlice", "Simd", "Unsafe", "MemoryMarshal", "Vector256", "Vector512", "Vector128", "Math", "Span", "ReadOnlySpan", "Array", "MethodImpl", "ThreadStatic", "INetwork", "TensorSet", "LoadOptions", "GC", "Environment", "System", "CnnGen" };
        string source = "using CnnGen;\nnamespace HostileNames\n{\n" + string.Join("\n", names.Select(n =>
            $"[Network, Input(3, 9, 9), Conv2D(4, 3, Padding = 1, Activation = Activation.Relu), BatchNorm2D, MaxPool2D(2), Flatten, Dense(3, Activation = Activation.Sigmoid)]\npublic partial class {n};")) + "\n}\n";
        AssertCleanAndBoundOutsideUserCode(source, names.Length);
    }

    [Test]
    public void Generated_files_declare_no_usings()
    {
        foreach (var (hint, text) in GeneratorHarness.Run(SnapshotTests.LeNet5).Files)
        {
            Assert.That(text.Split('\n').Where(l => l.StartsWith("using ", System.StringComparison.Ordinal)), Is.Empty, hint);
        }
    }

    private static void AssertCleanAndBoundOutsideUserCode(string source, int networks)
    {
        var result = GeneratorHarness.Run(source);
        Assert.That(result.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error), Is.Empty);
        Assert.That(result.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Take(10), Is.Empty);
        Assert.That(result.Files, Has.Count.EqualTo(networks * 4), "a shell and three kernel files per network");

        var user = result.Output.SyntaxTrees.Where(t => t.FilePath.StartsWith("Source", System.StringComparison.Ordinal)).ToHashSet();
        var misbound = new List<string>();
        foreach (var tree in result.Output.SyntaxTrees.Where(t => !user.Contains(t)))
        {
            var model = result.Output.GetSemanticModel(tree);
            foreach (var name in tree.GetRoot().DescendantNodes(descendIntoTrivia: true).OfType<SimpleNameSyntax>())
            {
                var info = model.GetSymbolInfo(name);
                var symbol = info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
                var refs = symbol?.DeclaringSyntaxReferences ?? System.Collections.Immutable.ImmutableArray<SyntaxReference>.Empty;
                if (symbol is null || (refs.Length > 0 && refs.All(r => user.Contains(r.SyntaxTree))))
                {
                    misbound.Add($"{System.IO.Path.GetFileName(tree.FilePath)}:{name.GetLocation().GetLineSpan().StartLinePosition.Line + 1} '{name}' -> {symbol?.ToDisplayString() ?? "nothing"}");
                }
            }
        }

        Assert.That(misbound.Take(20), Is.Empty, "names in generated code bound to user code (or to nothing)");
    }
}
