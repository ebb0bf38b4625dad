using System;
using System.Linq;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Generator;

/// <summary>
/// A depthwise + pointwise pair between the network input and output runs over planar rows (vectors of pixels, no
/// transposes) where the rows fill the vectors: which plans take it, and that they compute what the reference does.
/// </summary>
public sealed class PlanarPairTests
{
    /// <summary>mobilenet_block's shapes (the benchmark).</summary>
    private const string Block = """
        using CnnGen;
        namespace Planar;
        [Network, Input(32, 56, 56)]
        [Conv2D(32, 3, Groups = 32, Padding = 1, Activation = Activation.Relu6, Name = "dw")]
        [Conv2D(64, 1, Activation = Activation.Relu6, Name = "pw")]
        public partial class Block;
        """;

    /// <summary>
    /// Planar plans of several shapes: two rows per step or one, overlapping last vectors, dilation, strides, odd filter
    /// counts; a step that is both the first and the last (its window past both the top and the bottom of the input read in
    /// place); padding wider than the window's reach, so the output row is wider than the input's (lanes shifted by two).
    /// </summary>
    private const string Shapes = """
        using CnnGen;
        namespace Planar;
        [Network, Input(6, 10, 24)]
        [Conv2D(6, 3, Groups = 6, Padding = 1, Activation = Activation.Relu6, Name = "dw")]
        [Conv2D(10, 1, Activation = Activation.Relu, Name = "pw")]
        public partial class TwoRows;
        [Network, Input(4, 7, 16)]
        [Conv2D(4, 5, Groups = 4, Padding = 2, StrideHeight = 2, Bias = false, Name = "dw")]
        [Conv2D(7, 1, Name = "pw")]
        public partial class OddRows;
        [Network, Input(3, 8, 62)]
        [Conv2D(3, 3, Groups = 3, Padding = 2, Dilation = 2, Activation = Activation.Relu, Name = "dw")]
        [Conv2D(5, 1, Activation = Activation.LeakyRelu, Name = "pw")]
        public partial class Overlap;
        [Network, Input(4, 2, 16)]
        [Conv2D(4, 3, Groups = 4, Padding = 1, Name = "dw")]
        [Conv2D(3, 1, Name = "pw")]
        public partial class Short;
        [Network, Input(2, 4, 14)]
        [Conv2D(2, 3, Groups = 2, PaddingHeight = 1, PaddingWidth = 2, Activation = Activation.Relu, Name = "dw")]
        [Conv2D(3, 1, Name = "pw")]
        public partial class Wide;
        """;

    private static StepPlan[] Steps(string source, int width, PlanOptions? options = null)
    {
        var model = GeneratorHarness.Models(source).Single();
        var plan = options is null ? model.Plans.Single(p => p.Machine.Width == width)
            : Planner.Plan(model.Net, options, new[] { MachineModel.Targets.Single(m => m.Width == width) }).Plans.Single();
        return plan.Steps.ToArray();
    }

    [TestCase(8)]
    [TestCase(16)]
    [TestCase(4)]
    public void The_benchmark_block_runs_over_planar_rows_two_at_a_time(int width)
    {
        var steps = Steps(Block, width);
        var pack = (PackInputKernel)steps[0].Kernel;
        var dw = (DepthwiseKernel)steps.Single(s => s.RowFused).Kernel;
        var pw = (ConvKernel)steps.Single(s => s.DirectOutput).Kernel;
        Assert.Multiple(() =>
        {
            Assert.That(pack.InPlace, Is.True, "the depthwise reads the input in place: the packing step only checks it");
            Assert.That(steps[0].Method, Is.EqualTo("CheckInput"));
            Assert.That(steps.Single(s => s.RowFused).Inputs.Single(), Is.EqualTo(0), "the depthwise reads the network input");
            // A row of 56 pixels: whole vectors of 4 and 8; at 16 the last one overlaps the one before it.
            Assert.That(dw.PlanarVectors.ToArray(), Is.EqualTo(width == 16 ? new[] { 0, 16, 32, 40 } : Enumerable.Range(0, 56 / width).Select(i => i * width).ToArray()));
            Assert.That(dw.PlanarRows, Is.EqualTo(2));
            Assert.That(pw.PixelTiles.Sum(t => t.Vectors.Count * t.Starts.Count), Is.EqualTo(112 / width), "every vector of the two rows once");
            Assert.That(pw.PixelTiles.All(t => pw.Filters % t.Filters == 0 && t.Filters * t.Vectors.Count <= 24));
        });
        if (width == 8)
        {
            // 16 registers: 3 pixel vectors x 4 filters (12 accumulators, 3 loads and 4 broadcasts per input channel).
            Assert.That(pw.PixelTiles[0].Vectors, Is.EqualTo(new[] { 0, 8, 16 }));
            Assert.That(pw.PixelTiles[0].Filters, Is.EqualTo(4));
        }
    }

    [Test]
    public void Other_pairs_keep_the_channels_last_kernels()
    {
        static bool Planar(string declaration, int width, PlanOptions? options = null) =>
            Steps("using CnnGen;\nnamespace P;\n" + declaration, width, options).Any(s => s.Kernel is ConvKernel { PixelTiles.Count: > 0 });

        const string pair = "[Network, Input(8, 6, {0})] [Conv2D(8, 3, Groups = 8, Padding = 1, StrideWidth = {1}, Name = \"dw\")] [Conv2D(4, 1, Name = \"pw\")] public partial class Net;";
        Assert.Multiple(() =>
        {
            Assert.That(Planar(string.Format(pair, 16, 1), 8), Is.True);
            Assert.That(Planar(string.Format(pair, 16, 1), 8, PlanOptions.Inference with { PlanarPairs = false }), Is.False, "the switch");
            Assert.That(Planar(string.Format(pair, 12, 1), 16), Is.False, "a row narrower than a vector");
            Assert.That(Planar(string.Format(pair, 12, 1), 8), Is.True, "two rows of 12 pixels: three whole vectors of 8");
            Assert.That(Planar("[Network, Input(8, 5, 12)] [Conv2D(8, 3, Groups = 8, Padding = 1, Name = \"dw\")] [Conv2D(4, 1, Name = \"pw\")] public partial class Net;", 8),
                Is.False, "an odd height: one row of 12 pixels per step in two vectors of 8, a quarter of the lanes wasted");
            Assert.That(Planar(string.Format(pair, 32, 2), 8), Is.False, "a depthwise striding along the row");
            Assert.That(Planar("[Network, Input(8, 6, 16)] [Conv2D(8, 3, Groups = 8, Padding = 1, Name = \"dw\")] [Conv2D(4, 1, Name = \"pw\")] [ReLU] [Conv2D(2, 1, Name = \"out\")] public partial class Net;", 8),
                Is.False, "the pointwise output is not the network's");
            Assert.That(Planar("[Network, Input(8, 6, 16)] [Conv2D(8, 3, Groups = 8, Padding = 1, Name = \"dw\")] [Conv2D(4, 1, Name = \"pw\")] [Conv2D(4, 3, Padding = 1, Name = \"side\", From = \"input\")] [Add(\"pw\", \"side\")] public partial class Net;", 8),
                Is.False, "another layer reads the input");
        });
    }

    [Test]
    public void Planar_pairs_compute_what_the_reference_computes_on_every_width()
    {
        var assembly = GeneratorHarness.CompileAndLoad(Shapes);
        var networks = new (string Type, ReferenceNetwork<double> Reference, int[] PlanarWidths)[]
        {
            ("Planar.TwoRows", ReferenceNetwork<double>.Create(new Shape(6, 10, 24), b => b
                .Conv2D("dw", 6, 3, padding: 1, groups: 6, activation: Activation.Relu6).Conv2D("pw", 10, 1, activation: Activation.Relu)), new[] { 4, 8, 16 }),
            ("Planar.OddRows", ReferenceNetwork<double>.Create(new Shape(4, 7, 16), b => b
                .Conv2D("dw", 4, (5, 5), (2, 1), (2, 2, 2, 2), (1, 1), 4, bias: false).Conv2D("pw", 7, 1)), new[] { 4, 8, 16 }),
            ("Planar.Overlap", ReferenceNetwork<double>.Create(new Shape(3, 8, 62), b => b
                .Conv2D("dw", 3, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 3, bias: true, activation: Activation.Relu).Conv2D("pw", 5, 1, activation: Activation.LeakyRelu)), new[] { 4, 8, 16 }),
            ("Planar.Short", ReferenceNetwork<double>.Create(new Shape(4, 2, 16), b => b
                .Conv2D("dw", 4, 3, padding: 1, groups: 4).Conv2D("pw", 3, 1)), new[] { 4, 8, 16 }),
            ("Planar.Wide", ReferenceNetwork<double>.Create(new Shape(2, 4, 14), b => b
                .Conv2D("dw", 2, (3, 3), (1, 1), (1, 2, 1, 2), (1, 1), 2, bias: true, activation: Activation.Relu).Conv2D("pw", 3, 1)), new[] { 4, 8 }),
        };

        var models = GeneratorHarness.Models(Shapes);
        var random = new Random(5);
        const int batch = 3;
        foreach (var (type, reference, planarWidths) in networks)
        {
            var model = models.Single(m => "Planar." + m.Net.Spec.ClassName == type);
            var planar = model.Plans.Where(p => p.Steps.Any(s => s.Kernel is ConvKernel { PixelTiles.Count: > 0 })).Select(p => p.Machine.Width);
            Assert.That(planar, Is.EquivalentTo(planarWidths), type + ": the widths planning it over planar rows");

            var weights = ReferenceChecks.RandomWeights(reference, random);
            ReferenceChecks.AssertEveryWidth(assembly, type, reference, weights, random, batch, scale: 2, predictOne: true);
        }
    }

    [Test]
    public void A_planar_pair_refuses_a_non_finite_input_before_writing_the_output()
    {
        var assembly = GeneratorHarness.CompileAndLoad(Shapes);
        var reference = ReferenceNetwork<double>.Create(new Shape(6, 10, 24), b => b.Conv2D("dw", 6, 3, padding: 1, groups: 6).Conv2D("pw", 10, 1));
        var weights = new TensorSet(reference.Parameters.Select(p => new Tensor(p.Name, p.Shape, Enumerable.Repeat(0.1f, p.Value.Length).ToArray())));
        foreach (var width in GeneratorHarness.Widths)
        {
            var net = GeneratorHarness.Load(assembly, "Planar.TwoRows", weights, new LoadOptions { VectorWidth = width });
            var input = new float[net.InputSize];
            input[^1] = float.NaN;
            var output = Enumerable.Repeat(7f, net.OutputSize).ToArray();
            Assert.Throws<ArgumentException>(() => net.Predict(input, output));
            Assert.That(output, Is.All.EqualTo(7f), $"{width}: nothing written");
        }
    }

    /// <summary>
    /// The pointwise tiles check what they store (no scan of the output after a single-image prediction): a NaN output (a
    /// finite input whose depthwise sums overflow to +inf in one channel and -inf in the next) throws from every entry point
    /// and names the output; outputs that are finite but whose sum overflows (a false alarm of the tiles' check) are
    /// rescanned and returned. OddRows: input 4x7x16, depthwise 5x5 without bias or activation, pointwise without activation.
    /// </summary>
    [Test]
    public void A_planar_pair_checks_its_outputs_as_it_stores_them()
    {
        var assembly = GeneratorHarness.CompileAndLoad(Shapes);
        var reference = ReferenceNetwork<double>.Create(new Shape(4, 7, 16), b => b
            .Conv2D("dw", 4, (5, 5), (2, 1), (2, 2, 2, 2), (1, 1), 4, bias: false).Conv2D("pw", 7, 1));
        var weights = new TensorSet(reference.Parameters.Select(p => new Tensor(p.Name, p.Shape,
            Enumerable.Repeat(p.Name == "pw.bias" ? 0f : p.Name == "pw.weight" ? 0.25f : 1f, p.Value.Length).ToArray())));
        const int plane = 7 * 16;
        var overflow = Enumerable.Range(0, 4 * plane).Select(i => i / plane % 2 == 0 ? 3e38f : -3e38f).ToArray(); // +inf, -inf, ...: NaN
        var large = Enumerable.Repeat(1e37f, 4 * plane).ToArray(); // depthwise sums up to 2.5e38 and outputs as large: finite
        foreach (var width in GeneratorHarness.Widths)
        {
            var net = GeneratorHarness.Load(assembly, "Planar.OddRows", weights, new LoadOptions { VectorWidth = width });
            var output = new float[net.OutputSize];
            var e = Assert.Throws<ArithmeticException>(() => net.Predict(overflow, output), $"{width}")!;
            Assert.That(e.Message, Does.Contain("output[0]").And.Contain("OddRows"), $"{width}");
            Assert.That(float.IsNaN(output[0]), $"{width}: the output holds what was computed");
            Assert.Throws<ArithmeticException>(() => net.Predict(overflow, output, threads: 2), $"{width} (threads)");
            var two = new float[2 * net.OutputSize];
            Assert.Throws<ArithmeticException>(() => net.PredictBatch(overflow.Concat(overflow).ToArray(), two, 2), $"{width} (batch)");

            Array.Fill(output, float.NaN);
            net.Predict(large, output);
            Assert.That(output.All(v => float.IsFinite(v) && v > 1e37f), $"{width}: finite outputs whose sum overflows pass");
            Assert.That(output.Max(), Is.GreaterThan(2e38f), $"{width}: the tiles' sums did overflow");
            net.Predict(large, output, threads: 2);
            Assert.That(output.All(float.IsFinite), $"{width} (threads)");
        }
    }
}
