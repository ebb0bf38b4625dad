using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using CnnGen.Generator.Emit;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;

namespace CnnGen.Tests.Generator;

/// <summary>
/// One image on several threads (<c>Predict(input, output, threads)</c>): networks planned with every splittable step
/// split (the splitting threshold at 0, so small test networks split as a 224 x 224 one does) give the bits of the
/// ordinary plan's one-thread <c>Predict</c> at every width, for 1 to 4 threads and more threads than rows or tiles; the
/// batch paths (image by image and batch groups) call the split kernels whole; NaN inputs and bad thread counts fail as
/// the span overload does, before anything is written.
/// </summary>
public sealed class ThreadSplitTests
{
    /// <summary>Odd row counts (13, 6, 3, 3) and dense layers of 2 or 3 tiles at some widths; a residual Add fused into a convolution.</summary>
    private const string Odd = """
        [Network, Input(3, 13, 11)]
        [Conv2D(8, 3, Padding = 1, Activation = Activation.Relu), MaxPool2D(2)]
        [Conv2D(24, 3, Stride = 2, Padding = 1, Name = "down", Activation = Activation.Relu), Conv2D(24, 3, Padding = 1, Name = "body")]
        [Add("body", "down", Activation = Activation.Relu), Flatten, Dense(300, Activation = Activation.Relu), Dense(37)]
        public partial class Odd;
        """;

    /// <summary>Dense layers do most of the work: batches run in groups (the group kernels are not split), the convolution is.</summary>
    private const string DenseHeavy = """
        [Network, Input(2, 9, 9), Conv2D(4, 3, Activation = Activation.Relu), Flatten]
        [Dense(200, Activation = Activation.Relu), Dense(150, Activation = Activation.Relu), Dense(10)]
        public partial class DenseHeavy;
        """;

    /// <summary>
    /// 3x3 convolutions Winograd computes in several blocks of tile rows (37 rows: the last tile row half used): threads
    /// split the blocks, every thread but thread 0 on scratch of its own.
    /// </summary>
    private const string WinogradRows = """
        [Network, Input(32, 37, 30)]
        [Conv2D(64, 3, Padding = 1, Activation = Activation.Relu, Name = "wide"), Conv2D(64, 3, Padding = 1, Name = "wino")]
        [GlobalAvgPool2D, Flatten, Dense(10)]
        public partial class WinogradRows;
        """;

    /// <summary>
    /// MobileNetV2's block without its residual: the depthwise layer runs row by row inside the projection (13 rows), which
    /// the threads split, every thread but thread 0 with a row buffer of its own.
    /// </summary>
    private const string RowPair = """
        [Network, Input(8, 13, 11)]
        [Conv2D(32, 1, Activation = Activation.Relu6, Name = "expand")]
        [Conv2D(32, 3, Padding = 1, Groups = 32, Activation = Activation.Relu6, Name = "dw")]
        [Conv2D(24, 1, Name = "project"), GlobalAvgPool2D, Flatten, Dense(5)]
        public partial class RowPair;
        """;

    /// <summary>
    /// Element-wise steps on maps that nothing fuses (an activation of the input, a batch norm after it, an Add of a pool
    /// and the batch norm): the threads split their rows, as they split the global pool's channel vectors.
    /// </summary>
    private const string Elementwise = """
        [Network, Input(8, 13, 11)]
        [ReLU(From = "input", Name = "act"), BatchNorm2D(Name = "bn")]
        [MaxPool2D(3, Stride = 1, Padding = 1, Name = "pool"), Add("pool", "bn", Name = "sum")]
        [GlobalAvgPool2D, Flatten, Dense(5)]
        public partial class Elementwise;
        """;

    /// <summary>
    /// Convolutions on a 7-row map (MobileNetV2's and ResNet-50's last stage): the threads split (row, weight tile) units,
    /// so a thread's range may start or end inside a row; one with a residual fused.
    /// </summary>
    private const string SmallMap = """
        [Network, Input(16, 7, 5)]
        [Conv2D(96, 1, Activation = Activation.Relu6, Name = "expand"), Conv2D(96, 1, Name = "body")]
        [Add("body", "expand", Name = "sum"), GlobalAvgPool2D, Flatten, Dense(5)]
        public partial class SmallMap;
        """;

    /// <summary>More than 64 steps: <c>Forward</c> and its overload for a thread call parts, with barriers across them.</summary>
    private static readonly string Long =
        "[Network, Input(4, 7, 5)]\n" + string.Concat(Enumerable.Range(0, 70).Select(i => $"[Conv2D(4, 3, Padding = 1, Activation = Activation.Relu, Name = \"c{i}\")]\n")) +
        "[GlobalAvgPool2D, Flatten, Dense(5)]\npublic partial class Long;";

    /// <summary>Residual, depthwise and concat, depthwise rows, squeeze-and-excitation, LeNet's pixel layer and pools, and the ones above.</summary>
    private static readonly string[] Declared =
    {
        SnapshotTests.ResidualBlock, SnapshotTests.MobileNetBlock, SnapshotTests.DepthwiseSeparable, SnapshotTests.SqueezeExcitation,
        SnapshotTests.LeNet5, Odd, DenseHeavy, Long, WinogradRows, RowPair, Elementwise, SmallMap,
    };

    /// <summary>The steps a plan may split: rows (tiles, channel vectors) of every family with a kernel that takes a range.</summary>
    private static readonly StepKind[] Splittable =
    {
        StepKind.PackInput, StepKind.Conv, StepKind.DepthwiseConv, StepKind.Pool, StepKind.Dense, StepKind.GlobalPool,
        StepKind.Add, StepKind.Multiply, StepKind.Activation, StepKind.BatchNorm,
    };

    /// <summary>Random networks and graphs (the plan options tests' set: folded batch norms, adaptive pools, a Multiply).</summary>
    private static readonly int[] RandomSeeds = { 1013, 1025, 1037, 5008, 5009, 5045 };

    private static readonly int[] ThreadCounts = { 1, 2, 3, 4, 7 };

    /// <param name="Split">Every network's plan with every splittable step split (namespace S).</param>
    private sealed record Built(Assembly Assembly, IReadOnlyList<NetworkModel> Split, IReadOnlyList<string> Names, IReadOnlyList<TensorSet> Weights);

    private static readonly Lazy<Built> Compiled = new(Build);

    /// <summary>Each target with no minimum: every step the planner can split is split.</summary>
    private static IEnumerable<MachineModel> SplitEverything() => MachineModel.Targets.Select(m => m with { SplitMinimumBarriers = 0 });

    private static string Body(string declaration) => string.Join("\n", declaration.Split('\n').Where(l => !l.StartsWith("using ", StringComparison.Ordinal) && !l.StartsWith("namespace ", StringComparison.Ordinal)));

    private static Built Build()
    {
        var random = RandomSeeds.Select(s => RandomNetwork.Create(s, graphs: s >= 5000)).ToArray();
        var bodies = random.Select(n => n.Declaration).Concat(Declared.Select(Body)).ToList();
        var models = GeneratorHarness.Models("using CnnGen;\nnamespace Base;\n" + string.Join("\n", bodies));
        Assert.That(models, Has.Count.EqualTo(bodies.Count));
        var sources = new List<string>();
        var split = new List<NetworkModel>();
        foreach (var (ns, targets) in new[] { ("D", MachineModel.Targets.AsEnumerable()), ("S", SplitEverything()) })
        {
            foreach (var m in models)
            {
                var net = m.Net with { Spec = m.Net.Spec with { Namespace = ns } };
                var (common, plans) = Planner.Plan(net, PlanOptions.Inference, targets);
                var model = new NetworkModel { Net = net, Common = common, Plans = plans, SpecHash = m.SpecHash };
                if (ns == "S")
                {
                    split.Add(model);
                }

                sources.AddRange(Emitter.Emit(model).Select(f => f.Text));
            }

            sources.Add($"using CnnGen;\nnamespace {ns}\n{{\n{string.Join("\n", bodies)}\n}}\n");
        }

        var weights = models.Select((m, i) => i < random.Length ? random[i].Weights : PlanOptionsTests.Weights(m.Net, i)).ToList();
        return new Built(GeneratorHarness.CompileWithoutGenerator(sources), split, models.Select(m => m.Net.Spec.ClassName).ToList(), weights);
    }

    public static IEnumerable<TestCaseData> Cases() =>
        from w in GeneratorHarness.Widths
        select new TestCaseData(w).SetName($"Threads give the one-thread bits ({w})");

    [TestCaseSource(nameof(Cases))]
    public void Threads_give_the_one_thread_bits(VectorWidth width)
    {
        var built = Compiled.Value;
        var options = new LoadOptions { VectorWidth = width };
        for (int n = 0; n < built.Names.Count; n++)
        {
            string name = built.Names[n];
            var reference = GeneratorHarness.Load(built.Assembly, "D." + name, built.Weights[n], options);
            var split = GeneratorHarness.Load(built.Assembly, "S." + name, built.Weights[n], options);
            var rng = new Random(n);
            const int batch = 5;
            var inputs = Enumerable.Range(0, batch * split.InputSize).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
            var expected = new float[batch * split.OutputSize];
            reference.PredictBatch(inputs, expected, batch);

            // The batch paths call split kernels with all their rows.
            var actual = new float[expected.Length];
            split.PredictBatch(inputs, actual, batch);
            AssertBits(expected, actual, $"{name} {width}: PredictBatch");
            Array.Fill(actual, float.NaN);
            split.PredictBatch(inputs, actual, batch, 2);
            AssertBits(expected, actual, $"{name} {width}: PredictBatch on 2 threads");

            for (int image = 0; image < 2; image++)
            {
                var input = inputs.AsMemory(image * split.InputSize, split.InputSize);
                var want = expected.AsSpan(image * split.OutputSize, split.OutputSize).ToArray();
                var output = new float[split.OutputSize];
                split.Predict(input.Span, output);
                AssertBits(want, output, $"{name} {width}: Predict");
                foreach (int threads in ThreadCounts)
                {
                    Array.Fill(output, float.NaN);
                    split.Predict(input, output, threads);
                    AssertBits(want, output, $"{name} {width}, image {image}: {threads} threads");
                    Array.Fill(output, float.NaN);
                    reference.Predict(input, output, threads);
                    AssertBits(want, output, $"{name} {width}, image {image}: {threads} threads, the ordinary plan");
                }
            }
        }

        Assert.That(CnnGen.Internal.Parallelism.PoolThreads, Is.GreaterThanOrEqualTo(ThreadCounts.Max()), "the calls ran on the pool");
    }

    [Test]
    public void Every_splittable_family_is_split_and_nothing_else()
    {
        var built = Compiled.Value;
        var kinds = new HashSet<StepKind>();
        foreach (var model in built.Split)
        {
            foreach (var plan in model.Plans)
            {
                foreach (var s in plan.Steps.Where(s => s.SplitUnits > 0))
                {
                    string what = $"{model.Net.Spec.ClassName} {plan.VectorType} {s.Method}";
                    kinds.Add(s.Kind);
                    Assert.That(s.Kind, Is.AnyOf(Splittable), what);
                    Assert.That(s.Kernel.Split, Is.True, what);
                    Assert.That(s.SplitUnits, Is.GreaterThanOrEqualTo(2), what);
                }

                Assert.That(plan.Steps.Where(s => s.SplitUnits == 0).Select(s => s.Kernel.Split), Is.All.False, $"{model.Net.Spec.ClassName} {plan.VectorType}");
            }
        }

        Assert.That(kinds, Is.EquivalentTo(Splittable));
        var odd = built.Split[built.Names.ToList().IndexOf("Odd")];
        Assert.That(odd.Plans.SelectMany(p => p.Steps).Select(s => s.SplitUnits), Does.Contain(13).And.Contain(3), "odd row counts");
        var winograd = built.Split[built.Names.ToList().IndexOf("WinogradRows")];
        foreach (var plan in winograd.Plans)
        {
            Assert.That(plan.Steps.Count(s => s.Kernel is CnnGen.Generator.Planning.Kernels.WinogradKernel && s.SplitUnits >= 2), Is.EqualTo(2),
                $"WinogradRows {plan.VectorType}: both convolutions are Winograd, in blocks the threads split");
        }

        // A depthwise + pointwise row pair splits its output rows, each thread with a row buffer of its own.
        var pair = built.Split[built.Names.ToList().IndexOf("RowPair")];
        foreach (var plan in pair.Plans)
        {
            Assert.That(plan.Steps.Count(s => s.FusedDepthwise >= 0 && s.SplitUnits == 13), Is.EqualTo(1), $"RowPair {plan.VectorType}: the row pair");
        }

        // Every width's plan of SmallMap cuts both convolutions' 7 rows into weight tiles.
        var small = built.Split[built.Names.ToList().IndexOf("SmallMap")];
        foreach (var plan in small.Plans)
        {
            var tiled = plan.Steps.Where(s => s.Kernel is CnnGen.Generator.Planning.Kernels.ConvKernel { SplitTiles: > 1 }).ToList();
            Assert.That(tiled, Has.Count.EqualTo(2), $"SmallMap {plan.VectorType}: both convolutions split (row, weight tile) units");
            Assert.That(tiled.Select(s => s.SplitUnits), Is.EqualTo(tiled.Select(s => 7 * ((CnnGen.Generator.Planning.Kernels.ConvKernel)s.Kernel).SplitTiles)), $"SmallMap {plan.VectorType}");
        }

        var longPlans = built.Split[built.Names.ToList().IndexOf("Long")].Plans;
        Assert.That(longPlans.Select(p => p.Parts.Count), Is.All.GreaterThan(1), "a forward pass in parts");
    }

    [Test]
    public void Small_networks_split_nothing_at_the_real_thresholds()
    {
        // LeNet-5 and the snapshot blocks take microseconds: a barrier would cost more than a thread saves.
        foreach (var source in new[] { SnapshotTests.LeNet5, SnapshotTests.ResidualBlock, SnapshotTests.DepthwiseSeparable })
        {
            var model = GeneratorHarness.Models(source).Single();
            foreach (var plan in model.Plans.Where(p => p.Width >= 8))
            {
                Assert.That(plan.SplitsImage, Is.False, $"{model.Net.Spec.ClassName} {plan.VectorType}");
            }
        }
    }

    [TestCase(0)]
    [TestCase(-1)]
    [TestCase(int.MinValue)]
    public void A_bad_thread_count_is_refused_before_anything_is_written(int threads)
    {
        var built = Compiled.Value;
        foreach (string name in new[] { "ResidualBlock", "DepthwiseSeparable" }) // one that splits, one that does not
        {
            int n = built.Names.ToList().IndexOf(name);
            var net = GeneratorHarness.Load(built.Assembly, "S." + name, built.Weights[n]);
            var output = Enumerable.Repeat(42f, net.OutputSize).ToArray();
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => net.Predict(new float[net.InputSize], output, threads), name);
            Assert.That(ex!.ParamName, Is.EqualTo("threads"), name);
            Assert.That(ex.Message, Does.Contain("at least 1"), name);
            Assert.That(output, Is.All.EqualTo(42f), name);
        }
    }

    [TestCase("ResidualBlock", true)]
    [TestCase("SqueezeExcitation", false)]
    public void A_non_finite_input_is_refused_on_every_thread_count_before_anything_is_written(string name, bool packs)
    {
        var built = Compiled.Value;
        int n = built.Names.ToList().IndexOf(name);
        Assert.That(built.Split[n].Common.PacksInput, Is.EqualTo(packs), "the path under test");
        foreach (var width in GeneratorHarness.Widths)
        {
            var net = GeneratorHarness.Load(built.Assembly, "S." + name, built.Weights[n], new LoadOptions { VectorWidth = width });
            // In the first row (thread 0's when the threads split packing) and in the last (the last thread's).
            foreach (var (bad, at) in new[] { (float.NaN, net.InputSize - 5), (float.PositiveInfinity, net.InputSize - 5), (float.NaN, 4) })
            {
                var input = new float[net.InputSize];
                input[at] = bad;
                var single = Assert.Throws<ArgumentException>(() => net.Predict(input.AsSpan(), new float[net.OutputSize]));
                Assert.That(single!.Message, Does.Contain($"input[{at}]"));
                foreach (int threads in ThreadCounts)
                {
                    var output = Enumerable.Repeat(42f, net.OutputSize).ToArray();
                    var ex = Assert.Throws<ArgumentException>(() => net.Predict(input, output, threads));
                    Assert.That(ex!.ParamName, Is.EqualTo("input"));
                    Assert.That(ex.Message, Is.EqualTo(single.Message));
                    Assert.That(output, Is.All.EqualTo(42f), $"{width}, {threads} threads: the output is untouched");
                }

                // The pool keeps working.
                var fine = new float[net.OutputSize];
                net.Predict(new float[net.InputSize], fine, 2);
                Assert.That(fine, Is.All.Matches<float>(v => float.IsFinite(v)));
            }
        }
    }

    [Test]
    public void Wrong_buffer_lengths_are_refused_as_the_span_overload_refuses_them()
    {
        var built = Compiled.Value;
        int n = built.Names.ToList().IndexOf("ResidualBlock");
        var net = GeneratorHarness.Load(built.Assembly, "S.ResidualBlock", built.Weights[n]);
        var spanInput = Assert.Throws<ArgumentException>(() => net.Predict(new float[net.InputSize - 1].AsSpan(), new float[net.OutputSize]));
        var input = Assert.Throws<ArgumentException>(() => net.Predict(new float[net.InputSize - 1], new float[net.OutputSize], 2));
        Assert.That(input!.Message, Is.EqualTo(spanInput!.Message));
        var spanOutput = Assert.Throws<ArgumentException>(() => net.Predict(new float[net.InputSize].AsSpan(), new float[net.OutputSize + 1]));
        var output = Assert.Throws<ArgumentException>(() => net.Predict(new float[net.InputSize], new float[net.OutputSize + 1], 2));
        Assert.That(output!.Message, Is.EqualTo(spanOutput!.Message));
    }

    private static void AssertBits(float[] expected, float[] actual, string what) =>
        Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)), what);
}
