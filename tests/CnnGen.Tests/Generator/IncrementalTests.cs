using System.Linq;
using CnnGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Tests.Generator;

/// <summary>The pipeline caches: edits that do not touch a network leave its model Cached/Unchanged, so kernels are not re-emitted.</summary>
public sealed class IncrementalTests
{
    private const string Network = """
        using CnnGen;
        namespace N;
        [Network, Input(1, 12, 12), Conv2D(4, 3, Activation = Activation.Relu), MaxPool2D(2), Flatten, Dense(10)]
        public partial class Net;
        """;

    private static (GeneratorDriver Driver, Compilation Compilation) First(params string[] sources)
    {
        var (driver, compilation) = GeneratorHarness.Driver(sources);
        return (driver.RunGenerators(compilation), compilation);
    }

    private static IncrementalStepRunReason[] Reasons(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results[0].TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    [Test]
    public void An_unrelated_edit_leaves_the_model_cached()
    {
        var (driver, compilation) = First(Network, "class Other { }");
        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Last(),
            CSharpSyntaxTree.ParseText("class Other { int x; }", GeneratorHarness.ParseOptions, path: compilation.SyntaxTrees.Last().FilePath));
        driver = driver.RunGenerators(edited);
        Assert.That(Reasons(driver, CnnGenerator.StepNames.Transform), Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
        Assert.That(Reasons(driver, CnnGenerator.StepNames.Model), Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
    }

    [Test]
    public void Moving_the_declaration_does_not_change_the_model()
    {
        var (driver, compilation) = First(Network);
        var moved = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.First(),
            CSharpSyntaxTree.ParseText("// a comment that shifts every line\n\n" + Network, GeneratorHarness.ParseOptions, path: compilation.SyntaxTrees.First().FilePath));
        driver = driver.RunGenerators(moved);
        Assert.That(Reasons(driver, CnnGenerator.StepNames.Model), Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
    }

    [Test]
    public void Changing_a_layer_regenerates()
    {
        var (driver, compilation) = First(Network);
        var changed = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.First(),
            CSharpSyntaxTree.ParseText(Network.Replace("Dense(10)", "Dense(12)"), GeneratorHarness.ParseOptions, path: compilation.SyntaxTrees.First().FilePath));
        driver = driver.RunGenerators(changed);
        Assert.That(Reasons(driver, CnnGenerator.StepNames.Model), Is.All.EqualTo(IncrementalStepRunReason.Modified));
    }

    [Test]
    public void The_model_holds_no_Roslyn_objects()
    {
        var (driver, _) = First(Network);
        var model = driver.GetRunResult().Results[0].TrackedSteps[CnnGenerator.StepNames.Model].Single().Outputs.Single().Value;
        Assert.That(model, Is.Not.Null);
        var seen = new System.Collections.Generic.HashSet<object>(System.Collections.Generic.ReferenceEqualityComparer.Instance);
        Walk(model!, seen);
        Assert.That(seen.Count, Is.GreaterThan(10));
    }

    private static void Walk(object value, System.Collections.Generic.HashSet<object> seen)
    {
        var type = value.GetType();
        if (type.IsPrimitive || value is string || type.IsEnum || !seen.Add(value))
        {
            return;
        }

        Assert.That(value, Is.Not.InstanceOf<ISymbol>().And.Not.InstanceOf<SyntaxNode>().And.Not.InstanceOf<Compilation>().And.Not.InstanceOf<Location>(), type.FullName);
        if (value is System.Collections.IEnumerable items)
        {
            foreach (var item in items)
            {
                if (item is not null)
                {
                    Walk(item, seen);
                }
            }
        }

        foreach (var p in type.GetProperties(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public))
        {
            if (p.GetIndexParameters().Length == 0 && p.GetValue(value) is { } child)
            {
                Walk(child, seen);
            }
        }
    }
}
