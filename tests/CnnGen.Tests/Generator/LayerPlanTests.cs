using System;
using System.Linq;
using CnnGen.Generator.Planning;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Generator;

/// <summary>How the planner lowers AdaptiveAvgPool2D and Multiply, and views between a producer and its readers.</summary>
public sealed class LayerPlanTests
{
    private static StepKind[] Steps(string declaration) =>
        GeneratorHarness.Models("using CnnGen;\n" + declaration).Single().Plans[0].Steps.Select(s => s.Kind).ToArray();

    [Test]
    public void An_adaptive_pool_to_its_input_size_is_a_view_and_to_1x1_a_global_pool()
    {
        Assert.That(Steps("[Network, Input(3, 8, 8), Conv2D(4, 3, Name = \"c\"), AdaptiveAvgPool2D(6), Flatten, Dense(2)] public partial class Net;"),
            Is.EqualTo(new[] { StepKind.Conv, StepKind.Dense, StepKind.CopyOutput }), "AlexNet's avgpool at 224x224: no step");
        Assert.That(Steps("[Network, Input(3, 8, 8), Conv2D(4, 3), AdaptiveAvgPool2D(1, 1), Flatten, Dense(2)] public partial class Net;"),
            Is.EqualTo(new[] { StepKind.Conv, StepKind.GlobalPool, StepKind.Dense, StepKind.CopyOutput }));
        Assert.That(Steps("[Network, Input(3, 8, 8), Conv2D(4, 3), AdaptiveAvgPool2D(4, 5), Flatten, Dense(2)] public partial class Net;"),
            Is.EqualTo(new[] { StepKind.Conv, StepKind.AdaptivePool, StepKind.Dense, StepKind.CopyOutput }));

        // A network that is only the identity: the output is the input, copied.
        const string identity = "using CnnGen;\nnamespace Views;\n[Network, Input(2, 3, 4), AdaptiveAvgPool2D(3, 4)] public partial class Same;";
        Assert.That(GeneratorHarness.Models(identity).Single().Plans[0].Steps.Select(s => s.Kind), Is.EqualTo(new[] { StepKind.CopyOutput }));
        var net = GeneratorHarness.Load(GeneratorHarness.CompileAndLoad(identity), "Views.Same", new TensorSet(Array.Empty<Tensor>()));
        var input = Enumerable.Range(0, 24).Select(i => i * 0.5f).ToArray();
        var output = new float[24];
        net.Predict(input, output);
        Assert.That(output, Is.EqualTo(input));
    }

    [Test]
    public void A_multiply_takes_the_activation_after_it_and_keeps_its_own_step()
    {
        Assert.That(Steps("[Network, Input(4, 6, 6), GlobalAvgPool2D(Name = \"g\"), Conv2D(4, 1, Name = \"s\", Activation = Activation.Sigmoid), Multiply(\"s\", \"input\"), ReLU] public partial class Net;"),
            Is.EqualTo(new[] { StepKind.PackInput, StepKind.GlobalPool, StepKind.Conv, StepKind.Multiply, StepKind.CopyOutput }));
    }

    [TestCase("Dropout(Name = \"v\")")]
    [TestCase("AdaptiveAvgPool2D(6, Name = \"v\")")]
    public void An_activation_after_a_view_is_not_fused_into_a_producer_another_layer_reads(string view)
    {
        // c feeds both the view and the sum: ReLU(view) must not change what the sum reads from c.
        string source = $"using CnnGen;\nnamespace Views;\n[Network, Input(2, 8, 8), Conv2D(3, 3, Name = \"c\"), {view}, ReLU(Name = \"r\"), Add(\"c\", \"r\", Name = \"sum\")] public partial class Net;";
        Assert.That(GeneratorHarness.Models(source).Single().Plans[0].Steps.Single(s => s.Kind == StepKind.Conv).Activation.Kind, Is.EqualTo(CnnGen.Generator.Model.Activation.None));
        var reference = ReferenceNetwork<double>.Create(new Shape(2, 8, 8), b => b.Conv2D("c", 3, 3).Activation(Activation.Relu, name: "r").Add("c", "r", "sum"));
        var random = new Random(3);
        var weights = new TensorSet(reference.Parameters.Select(p => new Tensor(p.Name, p.Shape, Enumerable.Range(0, p.Value.Length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray())));
        reference.Load(weights);
        var input = Enumerable.Range(0, 2 * 8 * 8).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var expected = reference.Forward(input.Select(v => (double)v).ToArray(), 1, training: false).Select(v => (float)v).ToArray();
        var net = GeneratorHarness.Load(GeneratorHarness.CompileAndLoad(source), "Views.Net", weights);
        var actual = new float[net.OutputSize];
        net.Predict(input, actual);
        ConformanceCase.AssertClose(expected, actual, 1e-5, 1e-5, view);
    }

    [Test]
    public void A_multiply_writes_over_its_map_where_the_map_dies_there_on_every_width()
    {
        // InPlace: squeeze-and-excitation's scale twice in a row (the second over the first's product), each map read
        // for the last time by its Multiply: both products take the slot of c. Kept: c is added after the Multiply, so
        // the product needs a slot of its own.
        const string source = """
            using CnnGen;
            namespace Scales;
            [Network, Input(8, 7, 6), Conv2D(16, 1, Name = "c", Activation = Activation.SiLU)]
            [GlobalAvgPool2D(Name = "g"), Conv2D(16, 1, Name = "s", Activation = Activation.Sigmoid)]
            [Multiply("c", "s", Name = "m"), Multiply("m", "s", Name = "m2"), Conv2D(4, 1, Name = "out")]
            public partial class InPlace;
            [Network, Input(8, 7, 6), Conv2D(16, 1, Name = "c", Activation = Activation.SiLU)]
            [GlobalAvgPool2D(Name = "g"), Conv2D(16, 1, Name = "s", Activation = Activation.Sigmoid)]
            [Multiply("c", "s", Name = "m"), Add("m", "c", Name = "sum"), Conv2D(4, 1, Name = "out")]
            public partial class Kept;
            """;
        var models = GeneratorHarness.Models(source).ToDictionary(m => m.Net.Spec.ClassName);
        foreach (var (name, inPlace) in new[] { ("InPlace", true), ("Kept", false) })
        {
            foreach (var plan in models[name].Plans)
            {
                int Offset(string tensor) => plan.Tensors.Single(t => t.Name.Split(' ')[0] == tensor).Offset;
                Assert.That(Offset("m") == Offset("c"), Is.EqualTo(inPlace), $"{name} {plan.VectorType}: m over c");
                if (inPlace)
                {
                    Assert.That(Offset("m2"), Is.EqualTo(Offset("c")), $"{name} {plan.VectorType}: m2 over m, over c");
                    Assert.That(plan.Tensors.Where(t => t.Name.Contains("written over")).Select(t => t.Name), Is.EqualTo(new[] { "m (written over c)", "m2 (written over c)" }), "the comments say so");
                    Assert.That(plan.Tensors.Where(t => t.Name is "g" or "s").Select(t => t.Offset), Has.None.EqualTo(Offset("c")), $"{name} {plan.VectorType}: the scale lives elsewhere");
                }
            }
        }

        var assembly = GeneratorHarness.CompileAndLoad(source);
        var references = new (string Type, ReferenceNetwork<double> Reference)[]
        {
            ("Scales.InPlace", ReferenceNetwork<double>.Create(new Shape(8, 7, 6), b => b.Conv2D("c", 16, 1, activation: Activation.SiLU)
                .GlobalAvgPool2D("g").Conv2D("s", 16, 1, activation: Activation.Sigmoid).Multiply("c", "s", "m").Multiply("m", "s", "m2").Conv2D("out", 4, 1))),
            ("Scales.Kept", ReferenceNetwork<double>.Create(new Shape(8, 7, 6), b => b.Conv2D("c", 16, 1, activation: Activation.SiLU)
                .GlobalAvgPool2D("g").Conv2D("s", 16, 1, activation: Activation.Sigmoid).Multiply("c", "s", "m").Add("m", "c", "sum").Conv2D("out", 4, 1))),
        };
        var random = new Random(29);
        const int batch = 3;
        foreach (var (type, reference) in references)
        {
            var weights = ReferenceChecks.RandomWeights(reference, random);
            ReferenceChecks.AssertEveryWidth(assembly, type, reference, weights, random, batch, scale: 2);
        }
    }

    [Test]
    public void Multiply_gates_flat_vectors_and_squares_a_map_in_batches()
    {
        // A gated MLP (dense layers dominate: batches run in groups of images) and x * x of a map, against the reference executor.
        const string source = """
            using CnnGen;
            namespace Gates;
            [Network, Input(2, 3, 3), Flatten(Name = "f"), Dense(8, Name = "a"), Sigmoid(Name = "b")]
            [Multiply("a", "b", Name = "gate", Activation = Activation.Tanh), Dense(3, Name = "out")]
            public partial class Gated;
            [Network, Input(3, 5, 4), Conv2D(5, 3, Padding = 1, Name = "c"), Multiply("c", "c", Name = "square"), Conv2D(2, 1, Name = "out")]
            public partial class Square;
            """;
        var assembly = GeneratorHarness.CompileAndLoad(source);
        var networks = new (string Type, ReferenceNetwork<double> Reference)[]
        {
            ("Gates.Gated", ReferenceNetwork<double>.Create(new Shape(2, 3, 3), b => b.Flatten("f").Dense("a", 8).Activation(Activation.Sigmoid, name: "b").Multiply("a", "b", "gate", Activation.Tanh).Dense("out", 3))),
            ("Gates.Square", ReferenceNetwork<double>.Create(new Shape(3, 5, 4), b => b.Conv2D("c", 5, 3, padding: 1).Multiply("c", "c", "square").Conv2D("out", 2, 1))),
        };
        var random = new Random(11);
        const int batch = 9;
        foreach (var (type, reference) in networks)
        {
            var weights = ReferenceChecks.RandomWeights(reference, random);
            ReferenceChecks.AssertEveryWidth(assembly, type, reference, weights, random, batch, scale: 1);
        }

        Assert.That(GeneratorHarness.Models(source)[0].Common.GroupsBatches, Is.True, "the gated MLP runs batches in groups");
    }
}
