using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Planning.Passes;
using Microsoft.CodeAnalysis;

namespace CnnGen.Tests.Generator;

/// <summary>
/// The reserved names the generator checks declarations against (<see cref="ClassChecks.GeneratedMembers"/>, the kernel
/// classes' <see cref="Naming.Reserved"/>) are exactly what the emitter writes: networks reaching every path of the shell
/// and every kernel family are compiled, and the members their generated code declares are compared with the lists.
/// </summary>
public sealed class HostileClassTests
{
    private static readonly string[] Networks =
    {
        SnapshotTests.LeNet5, SnapshotTests.ResidualBlock, SnapshotTests.MobileNetBlock, SnapshotTests.DepthwiseSeparable,
        "using CnnGen;\nnamespace Samples;\n[Network, Input(1, 28, 28), Flatten, Dense(64, Activation = Activation.Relu), Dense(10, Activation = Activation.Softmax)]\npublic partial class Mlp;",
        "using CnnGen;\nnamespace Samples;\n[Network, Input(3, 12, 12), Conv2D(4, 3, Padding = 1), BatchNorm2D, Sigmoid, LeakyReLU(0.2f), Tanh, AvgPool2D(2), Conv2D(6, 1, Activation = Activation.SiLU), GlobalMaxPool2D, Flatten, Dense(5, Bias = false)]\npublic partial class Mixed;",
        // Large enough that every width splits a step between threads sharing an image (the shell's s_share128/256/512).
        "using CnnGen;\nnamespace Samples;\n[Network, Input(16, 64, 64), Conv2D(32, 5, Padding = 2, Activation = Activation.Relu), GlobalAvgPool2D, Flatten, Dense(10)]\npublic partial class Wide;",
    };

    private static readonly Lazy<(Compilation Output, List<INamedTypeSymbol> Classes)> Compiled = new(() =>
    {
        var result = GeneratorHarness.Run(Networks);
        Assert.That(result.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error), Is.Empty);
        var classes = result.Output.GetSymbolsWithName(_ => true, SymbolFilter.Type).OfType<INamedTypeSymbol>()
            .Where(t => t.ContainingType is null && t.ContainingNamespace.Name == "Samples").ToList();
        return (result.Output, classes);
    });

    private static bool Generated(ISymbol s) => s.DeclaringSyntaxReferences.Length > 0 && s.DeclaringSyntaxReferences.All(r => r.SyntaxTree.FilePath.EndsWith(".g.cs", StringComparison.Ordinal));

    [Test]
    public void The_reserved_member_names_are_what_the_shell_declares()
    {
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in Compiled.Value.Classes)
        {
            foreach (var m in type.GetMembers().Where(Generated))
            {
                bool weightField = m is IFieldSymbol && m.Name.StartsWith('_') && (m.Name.EndsWith("Weight", StringComparison.Ordinal) || m.Name.EndsWith("Bias", StringComparison.Ordinal)
                    || m.Name.EndsWith("Scale", StringComparison.Ordinal) || m.Name.EndsWith("Shift", StringComparison.Ordinal));
                bool loader = m is IMethodSymbol && m.Name.StartsWith("Load", StringComparison.Ordinal) && m.Name.Length > "Load".Length; // named by the plan (CommonPlan.Loaders)
                bool special = m is IMethodSymbol { MethodKind: MethodKind.Constructor } or IMethodSymbol { AssociatedSymbol: not null } || m is IPropertySymbol { ExplicitInterfaceImplementations.Length: > 0 };
                if (!weightField && !loader && !special)
                {
                    declared.Add(m.Name);
                }
            }
        }

        Assert.That(declared, Is.EquivalentTo(ClassChecks.GeneratedMembers), "ClassChecks.GeneratedMembers must list every member the shell declares, and nothing else");
    }

    [Test]
    public void The_reserved_kernel_class_names_are_what_every_kernel_class_declares()
    {
        foreach (var type in Compiled.Value.Classes)
        {
            foreach (var kernels in type.GetTypeMembers().Where(t => t.Name.StartsWith("Kernels", StringComparison.Ordinal)))
            {
                // Every member that is not a layer's kernel: its name is reserved, so a layer identifier cannot take it.
                var layerIds = GeneratorHarness.Models(Networks.Single(n => n.Contains("class " + type.Name + ";", StringComparison.Ordinal)))
                    .Single().Common.LayerIdentifiers;
                var fixedNames = kernels.GetMembers().Where(m => m is not IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor } and not IMethodSymbol { AssociatedSymbol: not null })
                    .Select(m => m.Name).Where(n => !layerIds.Any(id => n.StartsWith(id, StringComparison.Ordinal))).Distinct().ToList();
                Assert.That(fixedNames, Is.SubsetOf(Naming.Reserved), $"{type.Name}.{kernels.Name}");
            }
        }
    }
}
