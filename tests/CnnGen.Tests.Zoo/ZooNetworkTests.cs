using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.RegularExpressions;

namespace CnnGen.Tests.Zoo.Tests;

/// <summary>
/// Each declared zoo network against PyTorch: formula weights and stored running statistics, the two golden images,
/// max abs error against PyTorch float64 within max(2e-4, 10 x PyTorch float32's own error) and the same argmax, on the
/// widest width this machine accelerates (Auto), Vector256 and Vector128. The weights are built once per network, on
/// first use, and dropped when the network's tests end (VGG-16's are 553 MB).
/// </summary>
[TestFixtureSource(typeof(ZooNetworks), nameof(ZooNetworks.All))]
public sealed partial class ZooNetworkTests(ZooNetwork network)
{
    private static readonly Lazy<float[]> Inputs = new(ZooWeights.Inputs);

    private static readonly HashSet<string> FunctionalTypes = ["Add", "Flatten", "GlobalAvgPool2D", "Multiply"];

    private static readonly Dictionary<string, string> TorchTypes = new()
    {
        ["Conv2D"] = "Conv2d", ["BatchNorm2D"] = "BatchNorm2d", ["Dense"] = "Linear", ["MaxPool2D"] = "MaxPool2d",
        ["Dropout"] = "Dropout", ["GlobalAvgPool2D"] = "AdaptiveAvgPool2d", ["AdaptiveAvgPool2D"] = "AdaptiveAvgPool2d",
    };

    private ZooModel _model = null!;
    private TensorSet? _weights;

    [OneTimeSetUp]
    public void ReadGolden() => _model = ZooModel.Load(network.Model);

    [OneTimeTearDown]
    public void DropWeights() => _weights = null;

    [Test]
    public void Parameter_count_equals_torchvision() =>
        Assert.That(network.ParameterCount, Is.EqualTo(_model.Parameters));

    [Test]
    public void Declared_layers_are_torchvision_modules_with_their_output_shapes()
    {
        var golden = _model.Layers.GroupBy(l => l.Module).ToDictionary(g => g.Key, g => g.First());
        var declared = SummaryLayers(network.Summary);
        Assert.That(declared, Is.Not.Empty);
        Assert.Multiple(() =>
        {
            foreach (var (name, type, shape) in declared)
            {
                if (golden.TryGetValue(name, out var module))
                {
                    Assert.That(shape, Is.EqualTo(module.Output), $"{name}: output shape");
                    Assert.That(TorchTypes.GetValueOrDefault(type), Is.EqualTo(module.Type), $"{name}: {type} declares torchvision's {module.Type}");
                }
                else
                {
                    // Residual sums (named after their block), squeeze-and-excitation scales (named after their module, whose
                    // children golden.json lists), flatten and MobileNetV2's functional pool have no leaf module.
                    Assert.That(FunctionalTypes, Does.Contain(type), $"{name} ({type}) is not a torchvision module");
                }
            }

            var names = declared.Select(l => l.Name).ToHashSet();
            foreach (var module in _model.Layers.Where(l => l.Type is "Conv2d" or "Linear" or "BatchNorm2d"))
            {
                Assert.That(names, Does.Contain(module.Module), "every module with parameters is declared under its state_dict path");
            }
        });
    }

    [TestCase(VectorWidth.Auto)]
    [TestCase(VectorWidth.V256)]
    [TestCase(VectorWidth.V128)]
    public void Matches_PyTorch_float64(VectorWidth width)
    {
        var clock = Stopwatch.StartNew();
        _weights ??= ZooWeights.Build(_model);
        var built = clock.Elapsed;
        var net = network.Load(_weights, new LoadOptions { VectorWidth = width, Strict = true });
        var loaded = clock.Elapsed;
        if (width != VectorWidth.Auto)
        {
            Assert.That(net.VectorWidth, Is.EqualTo(width));
        }

        var outputs = new float[ZooModel.Images * ZooModel.Classes];
        net.PredictBatch(Inputs.Value, outputs, ZooModel.Images);
        var predicted = clock.Elapsed;

        var expected = _model.GoldenFloat64();
        double error = 0;
        for (int i = 0; i < outputs.Length; i++)
        {
            Assert.That(float.IsFinite(outputs[i]), $"output {i} is {outputs[i]}");
            error = Math.Max(error, Math.Abs(outputs[i] - expected[i]));
        }

        TestContext.Out.WriteLine(
            $"{network.Model} {net.VectorWidth}: max abs error {error:E2} (tolerance {_model.Tolerance:E2}, PyTorch float32 {_model.PyTorchFloat32Error:E2}); " +
            $"weights {built.TotalSeconds:F2} s, load {(loaded - built).TotalSeconds:F2} s, 2 images {(predicted - loaded).TotalSeconds:F2} s");
        Assert.Multiple(() =>
        {
            Assert.That(error, Is.LessThanOrEqualTo(_model.Tolerance), "max abs error against PyTorch float64");
            for (int image = 0; image < ZooModel.Images; image++)
            {
                var row = outputs.AsSpan(image * ZooModel.Classes, ZooModel.Classes);
                Assert.That(ArgMax(row), Is.EqualTo(_model.Argmax[image]), $"image {image}: PyTorch's class");
                Assert.That(net.Classify(Inputs.Value.AsSpan(image * net.InputSize, net.InputSize)), Is.EqualTo(_model.Argmax[image]), $"image {image}: Classify");
            }
        });
    }

    /// <summary>
    /// One image on two and three threads (<c>Predict(input, output, threads)</c>: the large layers' rows split between
    /// the threads) gives the one-thread bits, so it matches PyTorch as the batch test does; on the widest width here.
    /// </summary>
    [Test]
    public void Threads_on_one_image_give_the_one_thread_bits()
    {
        _weights ??= ZooWeights.Build(_model);
        var net = network.Load(_weights, new LoadOptions { Strict = true });
        var expected = _model.GoldenFloat64();
        for (int image = 0; image < ZooModel.Images; image++)
        {
            var input = Inputs.Value.AsMemory(image * net.InputSize, net.InputSize);
            var one = new float[ZooModel.Classes];
            net.Predict(input.Span, one);
            foreach (int threads in new[] { 2, 3 })
            {
                var shared = Enumerable.Repeat(float.NaN, ZooModel.Classes).ToArray();
                net.Predict(input, shared, threads);
                Assert.That(shared.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(one.Select(BitConverter.SingleToInt32Bits)), $"image {image}, {threads} threads");
            }

            double error = 0;
            for (int i = 0; i < one.Length; i++)
            {
                error = Math.Max(error, Math.Abs(one[i] - expected[(image * ZooModel.Classes) + i]));
            }

            Assert.That(error, Is.LessThanOrEqualTo(_model.Tolerance), $"image {image}: max abs error against PyTorch float64");
            Assert.That(ArgMax(one), Is.EqualTo(_model.Argmax[image]), $"image {image}: PyTorch's class");
        }
    }

    /// <summary>The layers of a generated summary: name, type without its fused activation, output shape.</summary>
    internal static List<(string Name, string Type, int[] Shape)> SummaryLayers(string summary)
    {
        var layers = new List<(string, string, int[])>();
        foreach (string line in summary.Split('\n'))
        {
            var match = SummaryLine().Match(line);
            if (match.Success)
            {
                string shape = match.Groups["shape"].Value.Trim('[', ']');
                layers.Add((match.Groups["name"].Value, match.Groups["type"].Value, shape.Split('x').Select(int.Parse).ToArray()));
            }
        }

        return layers;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    [GeneratedRegex(@"^(?<name>\S+) \((?<type>\w+)(?: \+ \w+)?\)\s+(?<shape>\[\d+\]|\d+(?:x\d+)*)\s")]
    private static partial Regex SummaryLine();
}
