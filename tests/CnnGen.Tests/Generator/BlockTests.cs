using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.Generator.Parsing;
using Microsoft.CodeAnalysis;

namespace CnnGen.Tests.Generator;

/// <summary>
/// The block attributes (BasicBlock, Bottleneck, InvertedResidual, MBConv) expand in the parser into the layers
/// torchvision builds: the zoo's declarations with blocks generate exactly the code of their long forms (every layer
/// written out, whose names golden.json checked), and the expansion's rules (projection, residual, expansion, squeeze
/// channels, numbering, default names) hold on small networks.
/// </summary>
public sealed class BlockTests
{
    private static string Declaration(string folder, string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "declarations", folder, name + ".cs"));

    [TestCase("ResNet18", "BasicBlock")]
    [TestCase("ResNet50", "Bottleneck")]
    [TestCase("MobileNetV2", "InvertedResidual")]
    [TestCase("EfficientNetB0", "MBConv")]
    public void The_zoo_declared_with_blocks_generates_the_code_of_its_long_form(string network, string block)
    {
        string shortForm = Declaration("zoo", network), longForm = Declaration("long", network);
        Assert.That(shortForm, Does.Contain($"[{block}("), "the zoo declaration uses the block");
        Assert.That(longForm, Does.Not.Contain($"[{block}("), "the long form writes every layer");

        var blocks = GeneratorHarness.Run(shortForm);
        var layers = GeneratorHarness.Run(longForm);
        Assert.That(blocks.GeneratorDiagnostics, Is.Empty);
        Assert.That(layers.GeneratorDiagnostics, Is.Empty);
        Assert.That(blocks.Files.Keys, Is.EquivalentTo(layers.Files.Keys));
        Assert.That(blocks.Files, Has.Count.EqualTo(4), "the shell and three widths");
        foreach (var (hint, text) in layers.Files)
        {
            Assert.That(blocks.Files[hint], Is.EqualTo(text), hint);
        }

        int Attributes(string source) => source.Split('\n').Count(l => l.StartsWith('['));
        TestContext.Out.WriteLine($"{network}: {Attributes(shortForm)} attribute lines with {block}, {Attributes(longForm)} written out");
        Assert.That(Attributes(shortForm), Is.LessThanOrEqualTo(12));
    }

    [Test]
    public void A_bottleneck_projects_the_first_block_only_where_the_stride_or_channels_change()
    {
        var layers = Layers("[Network, Input(64, 8, 8)] [Bottleneck(16, Repeat = 2)] [Bottleneck(32, Stride = 2, Name = \"down\")] public partial class Net;");
        Assert.That(layers.Select(l => l.Name), Is.EqualTo(new[]
        {
            "layer1.0.conv1", "layer1.0.bn1", "layer1.0.conv2", "layer1.0.bn2", "layer1.0.conv3", "layer1.0.bn3", "layer1.0",
            "layer1.1.conv1", "layer1.1.bn1", "layer1.1.conv2", "layer1.1.bn2", "layer1.1.conv3", "layer1.1.bn3", "layer1.1",
            "down.0.conv1", "down.0.bn1", "down.0.conv2", "down.0.bn2", "down.0.conv3", "down.0.bn3", "down.0.downsample.0", "down.0.downsample.1", "down.0",
        }), "64 = 4 x 16 channels at stride 1: no projection; stride 2: one");
        Assert.That(Find(layers, "layer1.0").Reads, Is.EqualTo("layer1.0.bn3, input"));
        Assert.That(Find(layers, "layer1.1").Reads, Is.EqualTo("layer1.1.bn3, layer1.0"));
        Assert.That(Find(layers, "down.0.downsample.0").Reads, Is.EqualTo("layer1.1"));
        Assert.That(Find(layers, "down.0").Reads, Is.EqualTo("down.0.bn3, down.0.downsample.1"));
        Assert.That(Find(layers, "down.0").Shape, Is.EqualTo("128x4x4"));
    }

    [Test]
    public void A_basic_block_stage_reads_From_and_names_default_to_layerN()
    {
        var layers = Layers("[Network, Input(3, 8, 8)] [Conv2D(8, 3, Padding = 1, Name = \"stem\"), ReLU(Name = \"side\")] [BasicBlock(8, From = \"stem\")] [BasicBlock(16, Stride = 2)] public partial class Net;");
        Assert.That(Find(layers, "layer1.0.conv1").Reads, Is.EqualTo("stem"));
        Assert.That(Find(layers, "layer1.0").Reads, Is.EqualTo("layer1.0.bn2, stem"), "8 channels at stride 1: the identity shortcut");
        Assert.That(layers.Select(l => l.Name), Does.Contain("layer2.0.downsample.0"));
        Assert.That(Find(layers, "layer2.0").Shape, Is.EqualTo("16x4x4"));
    }

    [Test]
    public void An_inverted_residual_stage_numbers_its_blocks_on_from_its_name()
    {
        var layers = Layers("[Network, Input(16, 8, 8)] [InvertedResidual(1, 16, Name = \"features.1\")] [InvertedResidual(6, 24, Repeat = 2, Stride = 2, Name = \"features.2\")] public partial class Net;");
        Assert.That(layers.Select(l => l.Name), Is.EqualTo(new[]
        {
            "features.1.conv.0.0", "features.1.conv.0.1", "features.1.conv.1", "features.1.conv.2", "features.1",
            "features.2.conv.0.0", "features.2.conv.0.1", "features.2.conv.1.0", "features.2.conv.1.1", "features.2.conv.2", "features.2.conv.3",
            "features.3.conv.0.0", "features.3.conv.0.1", "features.3.conv.1.0", "features.3.conv.1.1", "features.3.conv.2", "features.3.conv.3", "features.3",
        }), "ratio 1: no expansion; a residual where stride 1 keeps the channels");
        Assert.That(Find(layers, "features.2.conv.0.0").Shape, Is.EqualTo("96x8x8"), "16 x 6 hidden channels");
        Assert.That(Find(layers, "features.3.conv.0.0").Shape, Is.EqualTo("144x4x4"), "24 x 6");
        Assert.That(Find(layers, "features.1.conv.0.0").Type, Is.EqualTo("Conv2D"));
        Assert.That(Find(layers, "features.3").Reads, Is.EqualTo("features.3.conv.3, features.2.conv.3"));

        var unnamed = Layers("[Network, Input(8, 4, 4)] [InvertedResidual(2, 8, Repeat = 2)] [InvertedResidual(2, 8)] public partial class Net;");
        Assert.That(unnamed.Where(l => l.Type == "Add").Select(l => l.Name), Is.EqualTo(new[] { "block1", "block2", "block3" }), "default names count blocks over the network");
    }

    [Test]
    public void An_MBConv_stage_has_squeeze_and_excitation_and_torchvisions_channel_rules()
    {
        var layers = Layers("[Network, Input(18, 8, 8)] [MBConv(6, 16, KernelSize = 5, Repeat = 2)] [MBConv(1, 24, Stride = 2, Name = \"f\")] public partial class Net;");
        Assert.That(layers.Select(l => l.Name).Take(10), Is.EqualTo(new[]
        {
            "stage1.0.block.0.0", "stage1.0.block.0.1", "stage1.0.block.1.0", "stage1.0.block.1.1",
            "stage1.0.block.2.avgpool", "stage1.0.block.2.fc1", "stage1.0.block.2.fc2", "stage1.0.block.2",
            "stage1.0.block.3.0", "stage1.0.block.3.1",
        }), "18 -> 16 channels: no residual");
        Assert.That(Find(layers, "stage1.0.block.0.0").Shape, Is.EqualTo("112x8x8"), "make_divisible(18 x 6 = 108, 8) = 112");
        Assert.That(Find(layers, "stage1.0.block.1.0").Shape, Is.EqualTo("112x8x8"), "5x5 depthwise, padding 2");
        Assert.That(Find(layers, "stage1.0.block.2.fc1").Shape, Is.EqualTo("4x1x1"), "max(1, 18 / 4) squeeze channels");
        Assert.That(Find(layers, "stage1.0.block.2").Type, Is.EqualTo("Multiply"));
        Assert.That(Find(layers, "stage1.0.block.2").Reads, Is.EqualTo("stage1.0.block.1.1, stage1.0.block.2.fc2"));
        Assert.That(Find(layers, "stage1.1.block.0.0").Shape, Is.EqualTo("96x8x8"));
        Assert.That(Find(layers, "stage1.1").Reads, Is.EqualTo("stage1.1.block.3.1, stage1.0.block.3.1"), "stride 1, 16 -> 16 channels: a residual");
        Assert.That(Find(layers, "f.0.block.0.0").Shape, Is.EqualTo("16x4x4"), "ratio 1 on 16 channels: no expansion, the depthwise convolution comes first, with the stride");
        Assert.That(layers[^1].Name, Is.EqualTo("f.0.block.2.1"), "16 -> 24 channels: no residual");

        var odd = Layers("[Network, Input(18, 4, 4)] [MBConv(1, 24)] public partial class Net;");
        Assert.That(Find(odd, "stage1.0.block.0.0").Shape, Is.EqualTo("24x4x4"), "ratio 1 on 18 channels still expands: make_divisible(18, 8) = 24");
    }

    [TestCase(18L, 24)]
    [TestCase(96L, 96)]
    [TestCase(108L, 112)]
    [TestCase(3L, 8)]
    [TestCase(36L, 40)]
    [TestCase(1140L, 1144)]
    public void MakeDivisible_is_torchvisions(long value, int expected) =>
        Assert.That(Blocks.MakeDivisible(value, 8), Is.EqualTo(expected));

    [Test]
    public void Blocked_networks_compute_what_their_layers_compute()
    {
        // A small stage of each block, compiled and run against the same layers run by the scalar reference executor.
        const string source = "using CnnGen;\nnamespace Blocks;\n[Network, Input(8, 9, 9)] [BasicBlock(8, Repeat = 2)] [Bottleneck(4, Stride = 2)] [InvertedResidual(2, 16, Repeat = 2)] [MBConv(3, 16, Repeat = 2, KernelSize = 5)] [GlobalAvgPool2D, Flatten, Dense(5)] public partial class Net;";
        var assembly = GeneratorHarness.CompileAndLoad(source);
        var model = GeneratorHarness.Models(source).Single();
        var reference = CnnGen.Tests.Backward.ReferenceNetwork<double>.Create(new CnnGen.Tests.Backward.Shape(8, 9, 9), b => Define(b, model));
        var random = new Random(7);
        var tensors = reference.Parameters.Select(p => new Tensor(p.Name, p.Shape, Values(p.Value.Length, random, 0.3)))
            .Concat(reference.Buffers.Select(b => new Tensor(b.Name, new[] { b.Value.Length }, Values(b.Value.Length, random, 0.2).Select(v => b.Name.EndsWith("var", StringComparison.Ordinal) ? 1 + v : v).ToArray())))
            .ToList();
        var weights = new TensorSet(tensors);
        reference.Load(weights);
        var input = Values(8 * 9 * 9, random, 1);
        var expected = reference.Forward(input.Select(v => (double)v).ToArray(), 1, training: false);
        foreach (var width in GeneratorHarness.Widths)
        {
            var net = GeneratorHarness.Load(assembly, "Blocks.Net", weights, new LoadOptions { VectorWidth = width });
            var actual = new float[net.OutputSize];
            net.Predict(input, actual);
            CnnGen.Tests.Runtime.ConformanceCase.AssertClose(expected.Select(v => (float)v).ToArray(), actual, 1e-4, 1e-4, width.ToString());
        }
    }

    /// <summary>Declares the expanded layers of a generated model to the reference executor, layer by layer.</summary>
    private static void Define(CnnGen.Tests.Backward.IReferenceNetworkBuilder b, CnnGen.Generator.Model.NetworkModel model)
    {
        foreach (var layer in model.Net.Layers.Select(l => l.Spec))
        {
            switch (layer.Kind)
            {
                case CnnGen.Generator.Model.LayerKind.Conv2D:
                    b.Conv2D(layer.Name, layer.Units, (layer.KernelH, layer.KernelW), (layer.StrideH, layer.StrideW), (layer.PadTop, layer.PadLeft, layer.PadBottom, layer.PadRight),
                        (layer.DilationH, layer.DilationW), layer.Groups, layer.Bias, layer.Inputs[0], (Activation)(int)layer.Activation);
                    break;
                case CnnGen.Generator.Model.LayerKind.BatchNorm2D:
                    b.BatchNorm2D(layer.Name, layer.Eps, activation: (Activation)(int)layer.Activation);
                    break;
                case CnnGen.Generator.Model.LayerKind.Add:
                    b.Add(layer.Inputs[0], layer.Inputs[1], layer.Name, (Activation)(int)layer.Activation);
                    break;
                case CnnGen.Generator.Model.LayerKind.Multiply:
                    b.Multiply(layer.Inputs[0], layer.Inputs[1], layer.Name, (Activation)(int)layer.Activation);
                    break;
                case CnnGen.Generator.Model.LayerKind.GlobalAvgPool2D:
                    b.GlobalAvgPool2D(layer.Name);
                    break;
                case CnnGen.Generator.Model.LayerKind.Flatten:
                    b.Flatten(layer.Name);
                    break;
                case CnnGen.Generator.Model.LayerKind.Dense:
                    b.Dense(layer.Name, layer.Units, layer.Bias);
                    break;
                default:
                    throw new InvalidOperationException(layer.Kind.ToString());
            }
        }
    }

    private static float[] Values(int n, Random random, double scale) => Enumerable.Range(0, n).Select(_ => (float)(((random.NextDouble() * 2) - 1) * scale)).ToArray();

    private static (string Name, string Type, string Shape, string Reads) Find(IReadOnlyList<(string Name, string Type, string Shape, string Reads)> layers, string name) =>
        layers.Single(l => l.Name == name);

    /// <summary>The expanded layers of a one-network source: name, attribute kind, output shape and inputs.</summary>
    private static List<(string Name, string Type, string Shape, string Reads)> Layers(string declaration)
    {
        var models = GeneratorHarness.Models("using CnnGen;\n" + declaration);
        var result = GeneratorHarness.Run("using CnnGen;\n" + declaration);
        Assert.That(result.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error), Is.Empty);
        return models.Single().Net.Layers.Select(l => (l.Spec.Name, l.Spec.DisplayKind, l.Out.ToString(), string.Join(", ", l.Spec.Inputs))).ToList();
    }
}
