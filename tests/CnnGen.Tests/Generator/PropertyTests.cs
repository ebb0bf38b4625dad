using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Generator;

/// <summary>
/// Random valid topologies (kernels, strides, padding, dilation, groups, pooling, activations, batch norm, odd and
/// non-square sizes; with residual and concat wiring in the graph set) are generated, compiled in memory and
/// compared on random inputs with the scalar reference implementation, on every vector width.
/// </summary>
public sealed class PropertyTests
{
    private const int Count = 60;

    private static readonly Lazy<(RandomNetwork[] Nets, Assembly Assembly)> Chains = new(() => Build(1000, graphs: false));
    private static readonly Lazy<(RandomNetwork[] Nets, Assembly Assembly)> Graphs = new(() => Build(5000, graphs: true));

    private static (RandomNetwork[], Assembly) Build(int seed, bool graphs)
    {
        var nets = Enumerable.Range(seed, Count).Select(s => RandomNetwork.Create(s, graphs)).ToArray();
        string source = "using CnnGen;\nnamespace Random;\n" + string.Join("\n", nets.Select(n => n.Declaration));
        return (nets, GeneratorHarness.CompileAndLoad(source));
    }

    public static IEnumerable<TestCaseData> Cases() =>
        from graphs in new[] { false, true }
        from w in GeneratorHarness.Widths
        select new TestCaseData(graphs, w).SetName($"{(graphs ? "Graphs" : "Chains")} ({w})");

    [TestCaseSource(nameof(Cases))]
    public void Generated_networks_match_the_reference(bool graphs, VectorWidth width)
    {
        var (nets, assembly) = graphs ? Graphs.Value : Chains.Value;
        foreach (var net in nets)
        {
            var model = GeneratorHarness.Load(assembly, "Random." + net.ClassName, net.Weights, new LoadOptions { VectorWidth = width });
            Assert.That(model.InputSize, Is.EqualTo(net.InputSize), net.Declaration);
            Assert.That(model.OutputSize, Is.EqualTo(net.OutputSize), net.Declaration);
            for (int trial = 0; trial < 2; trial++)
            {
                var input = net.RandomInput(trial);
                var expected = net.Forward(input);
                var actual = new float[model.OutputSize];
                model.Predict(input, actual);
                ConformanceCase.AssertClose(expected, actual, 1e-4, 1e-4, $"{width}\n{net.Declaration}");
            }
        }
    }

    [Test]
    public void The_random_sets_cover_every_layer_kind()
    {
        string all = string.Join("\n", Chains.Value.Nets.Concat(Graphs.Value.Nets).Select(n => n.Declaration));
        foreach (var kind in new[] { "Conv2D(", "Groups = 2", "MaxPool2D(", "AvgPool2D(", "GlobalAvgPool2D", "GlobalMaxPool2D", "Flatten", "Dense(", "BatchNorm2D(",
                     "Add(", "Concat(", "Softmax", "ReLU6", "LeakyReLU(", "Sigmoid", "Tanh", "SiLU", "CeilMode = true", "CountIncludePad = false", "PaddingMode.Same", "DilationHeight = 2", "Multiply(", "AdaptiveAvgPool2D(" })
        {
            Assert.That(all, Does.Contain(kind), kind);
        }
    }
}
