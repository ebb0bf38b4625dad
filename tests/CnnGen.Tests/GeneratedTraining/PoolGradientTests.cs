using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// When a pool's backward may overwrite its input's gradient instead of clearing it and adding
/// (<see cref="TrainingNetworks.PoolGradientNet"/>): a 2x2 max pool tiling its input, but after a strided convolution's
/// scatter into the same gradient (it must add), and a 2x2 average pool of a 7x7 map, whose windows miss the last row and
/// column (cleared, then added). Two steps of SGD from PyTorch's initialisation against the reference executor: the
/// loss and every parameter gradient within 1e-4, on every width and on one and two threads (the gradient slots are
/// reused, so a missed clear shows as stale values).
/// </summary>
[TestFixture]
public sealed class PoolGradientTests
{
    private const double Tolerance = 1e-4;
    private const int Batch = 3;
    private const int Classes = 5;

    [TestCaseSource(typeof(TrainingNetworks), nameof(TrainingNetworks.WidthsAndThreads))]
    public void Gradients_match_the_reference(VectorWidth width, int threads)
    {
        using NetworkTrainer trainer = TrainingNetworks.Create("PoolGradientNet", seed: 5, new TrainerOptions { VectorWidth = width, Threads = threads });
        ReferenceNetwork<float> reference = ReferenceNetwork<float>.Create(new Shape(3, 8, 8), b => b
            .Conv2D("a", 6, 3, padding: 1, activation: Activation.Relu)
            .MaxPool2D(2, "p")
            .Conv2D("b", 6, 2, stride: 2, from: "a")
            .Add("p", "b", "sum")
            .Conv2D("c", 5, 2, padding: 2, activation: Activation.Relu)
            .AvgPool2D((2, 2), (2, 2), (0, 0), ceilMode: false, countIncludePad: true, "q")
            .Flatten()
            .Dense("fc", Classes));
        TrainingNetworks.AssertSgdStepsMatch(trainer, reference, steps: 2, Batch, Classes, inputSeed: 70, labelStride: 3, Tolerance, $"{width}, {threads} thread(s)");
    }
}

/// <summary>
/// A convolution's bias gradient added by the backward of the max pool that is its output's only reader and whose
/// windows tile it (<c>PoolBackwardKernel.BiasOf</c>): the sum of the windows' dy is the sum of the convolution's dy, so
/// the convolution has no bias pass over its full-size gradient. LeNet-5's conv1 (one vector of filters at Vector256 and
/// Vector512: the sum in a register) and conv2, <see cref="TrainingNetworks.GatherDataNet"/>'s "b" (32 filters: added per
/// window); not <see cref="TrainingNetworks.PoolGradientNet"/>'s "a", which a second convolution also reads. The
/// gradients: <c>ConvDataGradientTests.Gradients_match_the_reference</c> (GatherDataNet against the reference executor on
/// every width, one and two threads) and <c>GeneratedGoldenTests</c> (LeNet-5 against PyTorch on every width).
/// </summary>
[TestFixture]
public sealed class PoolBiasGradientTests
{
    [Test]
    public void LeNet5s_pools_add_their_convolutions_bias_gradients_at_every_width()
    {
        var files = GeneratorHarness.Run(TrainingNetworks.LeNet5Source).Files;
        foreach (VectorWidth width in GeneratorHarness.Widths)
        {
            string backward = TrainingNetworks.BackwardSource(files, width);
            Assert.That(backward, Does.Not.Contain("Conv1BackwardBias(").And.Not.Contain("Conv2BackwardBias("), $"{width}: no bias passes");
            Assert.That(backward, Does.Contain("Pool1Backward(ref At(ref image, ").And.Contain(", conv1BiasGradient);"), $"{width}: pool1's call");
            Assert.That(backward, Does.Contain(", conv2BiasGradient);"), $"{width}: pool2's call");
            string pool1 = TrainingNetworks.KernelSource(backward, "Pool1Backward");
            Assert.That(pool1, Does.Contain(width == VectorWidth.V128 ? "ref float dx, global::System.Memory<float> biasGradient)" : "ref float dy, ref float maxima, global::System.Memory<float> biasGradient)"), $"{width}: pool1 (its maxima for conv1's weight gradient but at Vector128)");
            Assert.That(backward, Does.Contain("/// conv1's bias gradient added here: each window's dy goes to one pixel"), $"{width}: pool1's remarks");
            bool oneVector = width != VectorWidth.V128; // 6 filters: one vector at 256 and 512 bits, two at 128
            Assert.That(pool1.Contains("bias += g; // conv1's bias gradient", System.StringComparison.Ordinal), Is.EqualTo(oneVector), $"{width}: pool1's sum in a register");
            Assert.That(pool1.Contains("Store(Load(ref gb) + bias, ref gb);", System.StringComparison.Ordinal), Is.EqualTo(oneVector), $"{width}: pool1's sum stored once");
            Assert.That(pool1.Contains("Store(Load(ref gb, (nuint)c) + g, ref gb, (nuint)c); // conv1's bias gradient", System.StringComparison.Ordinal), Is.EqualTo(!oneVector), $"{width}: pool1 adds per window");
        }
    }

    [Test]
    public void Only_a_pool_that_is_the_convolutions_only_reader_adds_its_bias_gradient()
    {
        var gather = GeneratorHarness.Run("using CnnGen;\nnamespace TrainingNetworks;\n" + TrainingNetworks.GatherDataNet).Files;
        var pools = GeneratorHarness.Run("using CnnGen;\nnamespace TrainingNetworks;\n" + TrainingNetworks.PoolGradientNet).Files;
        foreach (VectorWidth width in GeneratorHarness.Widths)
        {
            string g = TrainingNetworks.BackwardSource(gather, width), p = TrainingNetworks.BackwardSource(pools, width);
            Assert.That(g, Does.Not.Contain("BBackwardBias(").And.Contain("Store(Load(ref gb, (nuint)c) + g, ref gb, (nuint)c); // b's bias gradient"), $"{width}: GatherDataNet's b");
            Assert.That(p, Does.Contain("ABackwardBias(").And.Not.Contain("ref float dx, global::System.Memory<float> biasGradient)"), $"{width}: PoolGradientNet's a keeps its bias pass");
        }
    }

    /// <summary>
    /// A ReLU convolution whose only reader is a max pool keeps its own bias pass when the pool's windows do not tile its
    /// output (overlapping windows, a size the window does not divide, ceil mode, padding): the fold
    /// (<c>PoolBackwardKernel.BiasOf</c>) asks for windows that tile the map; the control, 2x2 windows on an 8x8 map, folds.
    /// </summary>
    [TestCase("MaxPool2D(3, Stride = 2, Name = \"p\")", 9, false)]
    [TestCase("MaxPool2D(2, Name = \"p\")", 9, false)]
    [TestCase("MaxPool2D(2, CeilMode = true, Name = \"p\")", 9, false)]
    [TestCase("MaxPool2D(2, Padding = 1, Name = \"p\")", 8, false)]
    [TestCase("MaxPool2D(2, Name = \"p\")", 8, true)]
    public void A_pool_whose_windows_do_not_tile_the_map_leaves_the_bias_gradient_to_the_convolution(string pool, int size, bool tiles)
    {
        string source = "using CnnGen;\nnamespace TrainingNetworks;\n"
            + $"[Network(Trainable = true), Input(2, {size + 2}, {size + 2})]\n"
            + $"[Conv2D(4, 3, Name = \"a\", Activation = Activation.Relu), {pool}]\n"
            + "[Flatten, Dense(5, Name = \"fc\")]\npublic partial class UntiledPoolNet;";
        var files = GeneratorHarness.Run(source).Files;
        foreach (VectorWidth width in GeneratorHarness.Widths)
        {
            string backward = TrainingNetworks.BackwardSource(files, width);
            Assert.That(backward.Contains("ABackwardBias(", System.StringComparison.Ordinal), Is.EqualTo(!tiles), $"{pool}, {width}: a's own bias pass");
            Assert.That(TrainingNetworks.KernelSource(backward, "PBackward").Contains("biasGradient", System.StringComparison.Ordinal), Is.EqualTo(tiles), $"{pool}, {width}: the pool adds the bias gradient");
        }
    }
}
