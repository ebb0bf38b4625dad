using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// A convolution's input gradient gathered over the filters (<see cref="TrainingNetworks.GatherDataNet"/>: 2 channels
/// into 32 filters, 5x5, padding 1), which the planner picks on every width, and its ReLU folded into the max pool's
/// backward (the pool is its output's only reader): the generated code holds the gather's border chunks (fixed columns,
/// taps unrolled), its interior tiles and the folded ReLU at each width, and two steps of SGD from
/// PyTorch's initialisation match the reference executor (the loss and every parameter gradient within 1e-4; conv
/// "a"'s gradients only come out right when conv "b"'s input gradient is right), on one and two threads.
/// </summary>
[TestFixture]
public sealed class ConvDataGradientTests
{
    [Test]
    public void The_gather_and_the_relu_folded_into_the_pool_are_generated_at_every_width()
    {
        foreach (var (width, backward) in GeneratedBackward.Of(TrainingNetworks.GatherDataNet))
        {
            Assert.That(backward, Does.Contain("gathered per input pixel with vectors over the filters"), $"{width}: conv b's input gradient is gathered");
            Assert.That(backward, Does.Match(@"private static void BBackwardData(Column0|Columns0To\d+)\("), $"{width}: the left border columns");
            Assert.That(backward, Does.Match(@"private static void BBackwardData(Column11|Columns\d+To11)\("), $"{width}: the right border columns");
            Assert.That(backward, Does.Match(@"private static void BBackwardDataTile\d+\("), $"{width}: the interior tiles");
            Assert.That(backward, Does.Contain("b's ReLU folded in"), $"{width}: the max pool passes dy where its maximum is > 0");
            Assert.That(backward, Does.Not.Contain("BActivationBackward("), $"{width}: conv b has no activation pass of its own");
            Assert.That(backward, Does.Contain("AActivationBackward("), $"{width}: conv a (read by a convolution, not a max pool) keeps its own");
            Assert.That(backward.Contains("Simd.LaneSums(", System.StringComparison.Ordinal), Is.EqualTo(width == VectorWidth.V256),
                $"{width}: a pixel's 2 channel sums go into dx as one vector where a pixel of dx is one 8-float vector");
        }
    }

    /// <summary>
    /// LeNet-5's conv2 (6 channels, padded to 8 lanes at Vector256, 16 filters): at Vector256 its input gradient is
    /// gathered too (30,000 real multiply-adds an image against the scatter's 40,000), in interior tiles of 2 pixels that
    /// load their dy vectors first (12 accumulators, 2 dy vectors and one weight at a time fit 16 registers), each pixel's
    /// 6 sums added into dx as one vector; at Vector512 in tiles of 3 pixels (the 6 interior columns), channel by channel. PyTorch's gradients at
    /// every width: <c>GoldenTrainers</c>.
    /// </summary>
    [Test]
    public void LeNet5s_conv2_input_gradient_is_gathered_at_Vector256_in_2_pixel_tiles_summed_a_pixel_at_a_time()
    {
        var files = GeneratorHarness.Run(TrainingNetworks.LeNet5Source).Files;
        string v256 = TrainingNetworks.BackwardSource(files, VectorWidth.V256), v512 = TrainingNetworks.BackwardSource(files, VectorWidth.V512);
        foreach (var (backward, bits) in new[] { (v256, 256), (v512, 512) })
        {
            Assert.That(backward, Does.Contain("conv2: dx += dy x W^T, gathered per input pixel with vectors over the filters"), $"{bits}");
        }

        Assert.That(v256, Does.Contain("private static void Conv2BackwardDataTile2("));
        Assert.That(v256, Does.Contain("var d0 = Load(ref dyp);\n").And.Contain("var d1 = Load(ref dyp, 16);\n"), "the two pixels' dy vectors first");
        Assert.That(v256, Does.Contain("Store(Load(ref dxp, 8) + global::CnnGen.Internal.Simd.LaneSums(a1_0, a1_1, a1_2, a1_3, a1_4, a1_5, Zero, Zero), ref dxp, 8);"));
        Assert.That(v512, Does.Contain("private static void Conv2BackwardDataTile3("));
        Assert.That(v512, Does.Not.Contain("Simd.LaneSums("));
    }

    [TestCaseSource(typeof(TrainingNetworks), nameof(TrainingNetworks.WidthsAndThreads))]
    public void Gradients_match_the_reference(VectorWidth width, int threads) =>
        GeneratedBackward.AssertTwoSgdSteps("GatherDataNet", seed: 9, inputSeed: 90, width, threads, new Shape(3, 12, 12), b => b
            .Conv2D("a", 2, 3, padding: 1, activation: Activation.Relu)
            .Conv2D("b", 32, 5, padding: 1, activation: Activation.Relu)
            .MaxPool2D(2, "p")
            .Flatten()
            .Dense("fc", GeneratedBackward.Classes));
}

/// <summary>
/// A convolution's input gradient scattered two kernel columns per pass and its weight gradient two output pixels per
/// step (<see cref="TrainingNetworks.TapPairsNet"/>: one vector of input channels and of filters at every width, stride 1):
/// both are generated where they apply and not for the stride-2 layer, and two steps of SGD match the reference executor
/// on every width, one and two threads.
/// </summary>
[TestFixture]
public sealed class ConvDataTapPairsTests
{
    [Test]
    public void Tap_pairs_are_generated_for_the_stride_1_layers_at_every_width()
    {
        foreach (var (width, backward) in GeneratedBackward.Of(TrainingNetworks.TapPairsNet))
        {
            string Kernel(string name)
            {
                int at = backward.IndexOf($"private static void {name}(", System.StringComparison.Ordinal);
                Assert.That(at, Is.GreaterThan(0), $"{width}: {name}");
                int end = backward.IndexOf("private static void ", at + 20, System.StringComparison.Ordinal);
                return backward.Substring(at, (end < 0 ? backward.Length : end) - at);
            }

            string Tile(string layer) => System.Text.RegularExpressions.Regex.Match(backward, $@"private static void ({layer}BackwardDataTile\d+)\(").Groups[1].Value;

            Assert.That(backward, Does.Contain("b: dx += dy x W^T, scattered tap by tap"), $"{width}: b is scattered, not gathered");
            Assert.That(Kernel(Tile("B")), Does.Contain("for (int kc = 0; kc < 4; kc += 2)").And.Contain("// the last kernel column alone"), $"{width}: b, 5 columns");
            Assert.That(Kernel(Tile("C")), Does.Contain("for (int kc = 0; kc < 4; kc += 2)").And.Not.Contain("the last kernel column alone"), $"{width}: c, 4 columns");
            Assert.That(Kernel(Tile("E")), Does.Not.Contain("kc += 2").And.Contain("// the last kernel column alone").And.Contain("var w1_0 = "), $"{width}: e, 3 columns");
            Assert.That(Kernel(Tile("D")), Does.Contain("for (int kc = 0; kc < 3; kc++)").And.Not.Contain("w1_0"), $"{width}: d, stride 2, one column per pass");
            Assert.That(backward, Does.Contain("per tap pair (two kernel columns share the dy broadcasts"), $"{width}: the remarks say so");

            // The weight gradients of the stride-1 layers (one vector of filters) take two output pixels per step.
            string Weights(string layer) => Kernel(System.Text.RegularExpressions.Regex.Match(backward, $@"private static void ({layer}BackwardWeightsTaps\w+)\(").Groups[1].Value);
            Assert.That(Weights("A"), Does.Contain("ow < 10; ow += 2").And.Contain("// the row's last pixel alone"), $"{width}: a, 11 pixels a row");
            Assert.That(Weights("C"), Does.Contain("ow < 10; ow += 2").And.Not.Contain("the row's last pixel alone"), $"{width}: c, 10 pixels a row");
            Assert.That(Weights("D"), Does.Not.Contain("ow += 2"), $"{width}: d, stride 2, one pixel per step");
        }
    }

    [TestCaseSource(typeof(TrainingNetworks), nameof(TrainingNetworks.WidthsAndThreads))]
    public void Gradients_match_the_reference(VectorWidth width, int threads) =>
        GeneratedBackward.AssertTwoSgdSteps("TapPairsNet", seed: 11, inputSeed: 110, width, threads, new Shape(3, 10, 11), b => b
            .Conv2D("a", 3, 3, padding: 1, activation: Activation.Relu)
            .Conv2D("b", 4, 5, padding: 2, activation: Activation.Relu)
            .Conv2D("c", 3, 4, padding: 1, activation: Activation.Relu)
            .Conv2D("d", 4, 3, stride: 2, padding: 1, activation: Activation.Relu)
            .Conv2D("e", 5, 3, padding: 1, activation: Activation.Relu)
            .Flatten()
            .Dense("fc", GeneratedBackward.Classes));
}

/// <summary>What the convolution input-gradient fixtures share: each width's generated backward source, and two SGD steps against the reference.</summary>
internal static class GeneratedBackward
{
    public const int Classes = 5;

    /// <summary>The trainer's kernel class (<c>*.Backward{bits}.g.cs</c>) of each width for a declaration in namespace TrainingNetworks.</summary>
    public static Dictionary<VectorWidth, string> Of(string declaration)
    {
        var files = GeneratorHarness.Run("using CnnGen;\nnamespace TrainingNetworks;\n" + declaration).Files;
        return GeneratorHarness.Widths.ToDictionary(w => w, w => TrainingNetworks.BackwardSource(files, w));
    }

    /// <summary>Two SGD steps of a batch of 3 of <see cref="TrainingNetworks"/>' <paramref name="network"/> against the reference executor built by <paramref name="layers"/> (the loss and every gradient within 1e-4).</summary>
    public static void AssertTwoSgdSteps(string network, ulong seed, int inputSeed, VectorWidth width, int threads, Shape input, Action<IReferenceNetworkBuilder> layers)
    {
        using NetworkTrainer trainer = TrainingNetworks.Create(network, seed, new TrainerOptions { VectorWidth = width, Threads = threads });
        ReferenceNetwork<float> reference = ReferenceNetwork<float>.Create(input, layers);
        TrainingNetworks.AssertSgdStepsMatch(trainer, reference, steps: 2, batch: 3, Classes, inputSeed, labelStride: 2, tolerance: 1e-4, $"{width}, {threads} thread(s)");
    }
}

/// <summary>
/// A weight-gradient tile over pixel pairs with fewer accumulators than the FMA latency hides keeps a second set for the
/// pair's second pixel (<c>ConvWeightsKernel.PairSecondSetUpTo</c>): <see cref="TrainingNetworks.PairSetsNet"/>'s "a" at
/// every width (LeNet-5's conv1, which had one at Vector256, reads its pool's maxima there now:
/// <c>ConvWeightsFromMaximaTests</c>); the gradients match the reference executor on every width, one and two threads.
/// </summary>
[TestFixture]
public sealed class ConvWeightsPairSetsTests
{
    private const double Tolerance = 1e-4;
    private const int Batch = 3;
    private const int Classes = 5;

    [Test]
    public void A_pair_tile_of_few_accumulators_keeps_a_second_set_at_every_width()
    {
        var files = GeneratorHarness.Run("using CnnGen;\nnamespace TrainingNetworks;\n" + TrainingNetworks.PairSetsNet).Files;
        foreach (VectorWidth width in GeneratorHarness.Widths)
        {
            string backward = TrainingNetworks.BackwardSource(files, width);
            string a = TrainingNetworks.KernelSource(backward, System.Text.RegularExpressions.Regex.Match(backward, @"private static void (ABackwardWeightsTaps\w+)\(").Groups[1].Value);
            Assert.That(a, Does.Contain("ow < 8; ow += 2").And.Contain("// the row's last pixel alone"), $"{width}: a, pixel pairs and a last pixel");
            Assert.That(a, Does.Contain("var b3_0 = Zero;").And.Contain("b3_0 = Fma(").And.Not.Contain("b4_0"), $"{width}: a, a second set of 4");
            Assert.That(a, Does.Contain("+ (a3_0 + b3_0), ref gw, "), $"{width}: a, the sets meet at the end");
            var tiles = System.Text.RegularExpressions.Regex.Matches(backward, @"private static void (BBackwardWeightsTaps\w+)\(").Select(m => m.Groups[1].Value).ToList();
            Assert.That(tiles, Is.Not.Empty, $"{width}: b's weight tiles");
            Assert.That(tiles.Select(t => TrainingNetworks.KernelSource(backward, t)), Has.All.Not.Contain("var b0_0 = Zero;"), $"{width}: b keeps one set");
        }
    }

    [TestCaseSource(typeof(TrainingNetworks), nameof(TrainingNetworks.WidthsAndThreads))]
    public void Gradients_match_the_reference(VectorWidth width, int threads)
    {
        using NetworkTrainer trainer = TrainingNetworks.Create("PairSetsNet", seed: 13, new TrainerOptions { VectorWidth = width, Threads = threads });
        ReferenceNetwork<float> reference = ReferenceNetwork<float>.Create(new Shape(1, 10, 10), b => b
            .Conv2D("a", 4, 2, activation: Activation.Relu)
            .Conv2D("b", 3, 3, padding: 1, activation: Activation.Relu)
            .Flatten()
            .Dense("fc", Classes));
        TrainingNetworks.AssertSgdStepsMatch(trainer, reference, steps: 2, Batch, Classes, inputSeed: 130, labelStride: 2, Tolerance, $"{width}, {threads} thread(s)");
    }
}
