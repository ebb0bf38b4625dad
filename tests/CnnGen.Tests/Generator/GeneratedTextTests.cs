using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using CnnGen.Generator.Planning.Passes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Tests.Generator;

/// <summary>What the generated comments and docs say: counts, numbers, identifiers and the model summary on hover.</summary>
public sealed class GeneratedTextTests
{
    [TestCase("relu6_1", "Relu6_1")]
    [TestCase("relu6_12", "Relu6_12")]
    [TestCase("layer1.2", "Layer1_2")]
    [TestCase("layer1.conv2", "Layer1Conv2")]
    [TestCase("layer1__conv2", "Layer1Conv2")]
    [TestCase("block_a.1", "BlockA1")]
    [TestCase("conv1", "Conv1")]
    [TestCase("2conv", "L2conv")]
    [TestCase("_", "L")]
    public void Layer_names_become_PascalCase_identifiers_that_keep_numbers_apart(string name, string identifier) =>
        Assert.That(Naming.Identifier(name), Is.EqualTo(identifier));

    [Test]
    public void Two_ReLU6_layers_get_methods_named_apart()
    {
        // The first ReLU6 is fused into the convolution; the second gets a step of its own, relu6_2.
        var result = GeneratorHarness.Run("""
            using CnnGen;
            namespace N;
            [Network, Input(2, 4, 4), Conv2D(4, 1), ReLU6, ReLU6]
            public partial class Net;
            """);
        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        string kernels = result.Files["N.Net.Kernels256.g.cs"];
        Assert.That(kernels, Does.Contain("private static void Relu6_2(ref float x, ref float y)"));
        Assert.That(kernels, Does.Not.Contain("Relu62"));
    }

    [Test]
    public void Counts_of_one_are_singular()
    {
        var plural = new Regex(@"\b1 (tiles|taps|channels|filters|pixels|output pixels|vectors|accumulators|features|outputs|images|floats|input channels|units|input features)\b");
        foreach (var source in new[] { SnapshotTests.LeNet5, SnapshotTests.ResidualBlock, SnapshotTests.MobileNetBlock, SnapshotTests.DepthwiseSeparable, """
            using CnnGen;
            namespace N;
            [Network, Input(1, 8, 8), Conv2D(1, 3, Padding = 1), BatchNorm2D, Conv2D(8, 1), Flatten, Dense(1)]
            public partial class One;
            """ })
        {
            foreach (var (hint, text) in GeneratorHarness.Run(source).Files)
            {
                var m = plural.Match(text);
                Assert.That(m.Success, Is.False, $"{hint}: '{(m.Success ? text.Substring(System.Math.Max(0, m.Index - 60), 120) : string.Empty)}'");
            }
        }

        string one = string.Concat(GeneratorHarness.Run(SnapshotTests.DepthwiseSeparable).Files.Values);
        Assert.That(one, Does.Contain("[1 tile]"), "the singular is written");
    }

    [Test]
    public void The_class_doc_shows_the_model_summary_with_the_table_numbers()
    {
        var result = GeneratorHarness.Run(SnapshotTests.LeNet5);
        var type = result.Output.GetTypeByMetadataName("Samples.LeNet5")!;
        var doc = XElement.Parse(type.GetDocumentationCommentXml()!);
        string summary = doc.Element("summary")!.Value;
        string table = doc.Element("remarks")!.Element("code")!.Value;
        Assert.That(summary, Does.Contain("61,706 parameters, 833,040 FLOPs"));
        Assert.That(table, Does.Contain("Model: LeNet5 (input 1x28x28)").And.Contain("Total params: 61,706").And.Contain("FLOPs: 833,040"));
        Assert.That(table, Does.Contain("conv1 (Conv2D + Relu)  6x28x28            156      235,200  input"));
    }

    [Test]
    public void The_summary_in_the_class_doc_is_escaped_XML()
    {
        var result = GeneratorHarness.Run("""
            using CnnGen;
            namespace N;
            [Network, Input(1, 4, 4), Conv2D(2, 3, Name = "a<b&c>"), Flatten, Dense(3)]
            public partial class Odd;
            """);
        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        var shell = CSharpSyntaxTree.ParseText(result.Files["N.Odd.g.cs"], GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose));
        Assert.That(shell.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning), Is.Empty, "well-formed XML docs");
        var type = result.Output.GetTypeByMetadataName("N.Odd")!;
        string table = XElement.Parse(type.GetDocumentationCommentXml()!).Element("remarks")!.Element("code")!.Value;
        Assert.That(table, Does.Contain("a<b&c> (Conv2D)"));
    }
}
