using System.Linq;
using System.Reflection;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Tests.Runtime;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// A convolution's weight gradient from the maxima of the max pool that reads it (<c>ConvWeightsFromMaximaKernel</c>,
/// <c>BackwardBuilder.WeightsFromPoolMaxima</c>): the pool's backward writes each window's gradient and the position of its
/// first maximum, and the weight gradient multiplies the input at that position only. <see cref="MaximaNet"/> takes it
/// for a CHW first layer of 3 channels with 3x3 pool windows (its input gradient on request: the pool writes the dense dy
/// then only), a dilated HWC layer whose 10 channels span 3, 2 and 1 vectors at Vector128, 256 and 512, and a stride-2
/// layer without an activation (the pool passes dy unmasked and adds its bias gradient); against the reference executor
/// on every width and 1 and 2 threads (random inputs: many windows are all negative under the ReLU), with input
/// gradients. <see cref="TieNet"/>: ties between different patches go to the first maximum, as PyTorch's;
/// <see cref="OddNet"/>: a CHW first layer with stride and dilation along the height and asymmetric padding. The
/// planner's condition on small first layers and at the sums' limit. LeNet-5's gradients against PyTorch:
/// <c>GeneratedGoldenTests</c>.
/// </summary>
[TestFixture]
public sealed class ConvWeightsFromMaximaTests
{
    private const double Tolerance = 1e-4;
    private const int Batch = 3;
    private const int Classes = 5;

    /// <summary>The network of these tests (see the class's summary).</summary>
    public const string MaximaNet = """
        [Network(Trainable = true), Input(3, 48, 48)]
        [Conv2D(10, 3, Padding = 1, Name = "a", Activation = Activation.Relu), MaxPool2D(3, Name = "p")]
        [Conv2D(12, 3, Dilation = 2, Padding = 2, Name = "b", Activation = Activation.Relu), MaxPool2D(2, Name = "q")]
        [Conv2D(8, 3, Stride = 2, Padding = 1, Name = "c"), MaxPool2D(2, Name = "r")]
        [Flatten, Dense(5, Name = "fc")]
        public partial class MaximaNet;
        """;

    /// <summary>
    /// One filter whose kernel (centre tap 1, bias 0 in <see cref="Ties_with_different_patches_go_to_the_first_maximum"/>)
    /// copies the input: on an input constant over 2x2 blocks, each pool window's four values tie, with different 3x3
    /// patches around them.
    /// </summary>
    public const string TieNet = """
        [Network(Trainable = true), Input(1, 8, 8)]
        [Conv2D(1, 3, Padding = 1, Name = "a"), MaxPool2D(2, Name = "p")]
        [Flatten, Dense(2, Name = "fc")]
        public partial class TieNet;
        """;

    /// <summary>
    /// <see cref="TieNet"/> behind a 1x1 convolution (weight 1, bias 0: the identity), so a's input gradient is always
    /// computed and p writes the dense dy and the maxima in one kernel (each tap compared with the maximum once for both).
    /// </summary>
    public const string DeepTieNet = """
        [Network(Trainable = true), Input(1, 8, 8)]
        [Conv2D(1, 1, Name = "z"), Conv2D(1, 3, Padding = 1, Name = "a"), MaxPool2D(2, Name = "p")]
        [Flatten, Dense(2, Name = "fc")]
        public partial class DeepTieNet;
        """;

    /// <summary>A CHW first layer with a 3x4 kernel, vertical stride 2, vertical dilation 2 and padding 1/0/2/3 (top, left, bottom, right).</summary>
    public const string OddNet = """
        [Network(Trainable = true), Input(3, 20, 20)]
        [Conv2D(8, 3, 4, StrideHeight = 2, StrideWidth = 1, DilationHeight = 2, DilationWidth = 1, PadTop = 1, PadBottom = 2, PadLeft = 0, PadRight = 3, Name = "a", Activation = Activation.Relu), MaxPool2D(2, Name = "p")]
        [Flatten, Dense(5, Name = "fc")]
        public partial class OddNet;
        """;

    private static readonly System.Lazy<Assembly> Compiled = new(() => GeneratorHarness.CompileAndLoad("using CnnGen;\nnamespace TrainingNetworks;\n" + MaximaNet));
    private static readonly System.Lazy<Assembly> Tie = new(() => GeneratorHarness.CompileAndLoad("using CnnGen;\nnamespace TrainingNetworks;\n" + TieNet));
    private static readonly System.Lazy<Assembly> DeepTie = new(() => GeneratorHarness.CompileAndLoad("using CnnGen;\nnamespace TrainingNetworks;\n" + DeepTieNet));
    private static readonly System.Lazy<Assembly> Odd = new(() => GeneratorHarness.CompileAndLoad("using CnnGen;\nnamespace TrainingNetworks;\n" + OddNet));

    private static NetworkTrainer Create(VectorWidth width, int threads) => Create(Compiled.Value, "MaximaNet", width, threads);

    private static NetworkTrainer Create(Assembly assembly, string network, VectorWidth width, int threads) =>
        (NetworkTrainer)assembly.GetType("TrainingNetworks." + network + "+Trainer", throwOnError: true)!
            .GetMethod("Create", new[] { typeof(ulong), typeof(TrainerOptions) })!
            .Invoke(null, new object[] { 21UL, new TrainerOptions { VectorWidth = width, Threads = threads } })!;

    private static ReferenceNetwork<float> Reference() => ReferenceNetwork<float>.Create(new Shape(3, 48, 48), b => b
        .Conv2D("a", 10, 3, padding: 1, activation: Activation.Relu)
        .MaxPool2D(3, "p")
        .Conv2D("b", 12, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), groups: 1, bias: true, activation: Activation.Relu)
        .MaxPool2D(2, "q")
        .Conv2D("c", 8, 3, stride: 2, padding: 1)
        .MaxPool2D(2, "r")
        .Flatten()
        .Dense("fc", Classes));

    [Test]
    public void The_weight_gradients_read_the_maxima_at_every_width()
    {
        var files = GeneratorHarness.Run("using CnnGen;\nnamespace TrainingNetworks;\n" + MaximaNet).Files;
        foreach (VectorWidth width in GeneratorHarness.Widths)
        {
            string backward = TrainingNetworks.BackwardSource(files, width);
            foreach (string layer in new[] { "A", "B", "C" })
            {
                Assert.That(backward, Does.Contain($"private static void {layer}BackwardWeights(ref float x, ref float maxima, int count, global::System.Memory<float> weightGradient)"), $"{width}: {layer}");
                Assert.That(backward, Does.Not.Contain($"{layer}BackwardWeightsTaps"), $"{width}: {layer} has no dense tiles");
            }

            Assert.That(TrainingNetworks.KernelSource(backward, "PBackward"), Does.Contain("ref float dy, ref float maxima, global::System.Memory<float> biasGradient)").And.Not.Contain("dxw"), $"{width}: p writes the maxima only");
            Assert.That(backward, Does.Contain("private static void PBackwardDense(ref float x, ref float y, ref float dy, ref float dx)"), $"{width}: p's dense dy on request, without the maxima and the bias");
            Assert.That(backward, Does.Match(@"if \(inputGradients\)\s+\{\s+for \(int i = begin; i < end; i\+\+\)\s+\{\s+ref float image = [^;]+;\s+PBackwardDense\("), $"{width}: called for input gradients only");
            Assert.That(TrainingNetworks.KernelSource(backward, "QBackward"), Does.Contain("ref float dy, ref float dx, ref float maxima, global::System.Memory<float> biasGradient)"), $"{width}: q writes both (b's input gradient reads the dense dy)");
            Assert.That(TrainingNetworks.KernelSource(backward, "RBackward"), Does.Contain("ref float dx, ref float maxima, global::System.Memory<float> biasGradient)").And.Not.Contain("'s ReLU"), $"{width}: r adds c's bias gradient, no ReLU mask");
            Assert.That(backward, Does.Not.Contain("CBackwardBias(").And.Not.Contain("CActivationBackward("), $"{width}: c has no bias or activation pass");
        }
    }

    [Test]
    public void LeNet5s_convolutions_read_their_pools_maxima_but_conv1_at_Vector128_and_conv2_at_Vector512()
    {
        var files = GeneratorHarness.Run(TrainingNetworks.LeNet5Source).Files;
        foreach (VectorWidth width in GeneratorHarness.Widths)
        {
            string backward = TrainingNetworks.BackwardSource(files, width);
            bool conv1 = width != VectorWidth.V128; // 5 kernel columns: more than a Vector128
            Assert.That(backward.Contains("private static void Conv1BackwardWeights(ref float x, ref float maxima, int count,", System.StringComparison.Ordinal), Is.EqualTo(conv1), $"{width}: conv1");
            Assert.That(backward.Contains("Conv1BackwardWeightsTaps", System.StringComparison.Ordinal), Is.EqualTo(!conv1), $"{width}: conv1's dense tiles");
            bool conv2 = width != VectorWidth.V512; // 16 filters in one vector: 15,000 dense multiply-adds against 10,000 loads
            Assert.That(backward.Contains("private static void Conv2BackwardWeights(ref float x, ref float maxima, int count,", System.StringComparison.Ordinal), Is.EqualTo(conv2), $"{width}: conv2");
            Assert.That(backward.Contains("Pool1BackwardDense(", System.StringComparison.Ordinal), Is.EqualTo(conv1), $"{width}: pool1's dense dy on request");
        }
    }

    /// <summary>
    /// The condition on small first layers, each padded (so the convolution reads a packed copy of the input, not the
    /// network input in place): ReLU and no activation take the maxima at every width (the controls of the same shape);
    /// overlapping windows, an average pool, activations other than ReLU (their derivative is a pass of its own over the
    /// dense dy), a grouped convolution, a convolution read by more than its pool, a CHW kernel dilated along the width
    /// keep the dense weight gradient (the last without an activation: its bias gradient still folds into the pool); and
    /// the unpadded first layer, which reads the network input in place (its row loads would leave the batch's array).
    /// </summary>
    [TestCase("Conv2D(4, 3, Padding = 1, Name = \"a\", Activation = Activation.Relu), MaxPool2D(2, Name = \"p\")", 10, true, true)]
    [TestCase("Conv2D(4, 3, Padding = 1, Name = \"a\"), MaxPool2D(2, Name = \"p\")", 10, true, true)]
    [TestCase("Conv2D(4, 3, Padding = 1, Name = \"a\", Activation = Activation.Relu), MaxPool2D(3, Stride = 2, Name = \"p\")", 9, false, false)]
    [TestCase("Conv2D(4, 3, Padding = 1, Name = \"a\", Activation = Activation.Relu), AvgPool2D(2, Name = \"p\")", 10, false, false)]
    [TestCase("Conv2D(4, 3, Padding = 1, Name = \"a\", Activation = Activation.Tanh), MaxPool2D(2, Name = \"p\")", 10, false, false)]
    [TestCase("Conv2D(4, 3, Padding = 1, Name = \"a\", Activation = Activation.LeakyRelu), MaxPool2D(2, Name = \"p\")", 10, false, false)]
    [TestCase("Conv2D(4, 3, Padding = 1, Groups = 2, Name = \"a\", Activation = Activation.Relu), MaxPool2D(2, Name = \"p\")", 10, false, true)]
    [TestCase("Conv2D(4, 3, Padding = 1, Name = \"a\", Activation = Activation.Relu), MaxPool2D(2, Name = \"p\"), Conv2D(4, 2, Stride = 2, From = \"a\", Name = \"s\"), Add(\"p\", \"s\")", 10, false, false)]
    [TestCase("Conv2D(4, 3, Padding = 1, DilationWidth = 2, PadLeft = 2, PadRight = 2, Name = \"a\"), MaxPool2D(2, Name = \"p\")", 10, false, true)]
    [TestCase("Conv2D(4, 3, Name = \"a\", Activation = Activation.Relu), MaxPool2D(2, Name = \"p\")", 10, false, true)]
    public void The_condition_on_a_first_layer(string layers, int size, bool maxima, bool biasInPool)
    {
        string source = "using CnnGen;\nnamespace TrainingNetworks;\n"
            + $"[Network(Trainable = true), Input(2, {size}, {size})]\n[{layers}]\n[Flatten, Dense(5, Name = \"fc\")]\npublic partial class DenseWeightsNet;";
        var files = GeneratorHarness.Run(source).Files;
        foreach (VectorWidth width in GeneratorHarness.Widths)
        {
            string backward = TrainingNetworks.BackwardSource(files, width);
            if (maxima)
            {
                Assert.That(backward, Does.Contain("private static void ABackwardWeights(ref float x, ref float maxima, int count,").And.Not.Contain("ABackwardWeightsTaps"), $"{layers}, {width}");
            }
            else
            {
                Assert.That(backward, Does.Contain("ABackwardWeightsTaps").And.Not.Contain("ref float maxima"), $"{layers}, {width}");
            }

            Assert.That(backward.Contains("ABackwardBias(", System.StringComparison.Ordinal), Is.EqualTo(!biasInPool), $"{layers}, {width}: a's bias gradient in the pool");
        }
    }

    /// <summary>
    /// The sums (a vector per filter and unit, on the stack) at most 8,192 floats: a 1x1 convolution of 128 channels
    /// (HWC: 128 / V units at every width) with 64 filters has exactly 8,192 and reads the maxima; with 65 it keeps the
    /// dense weight gradient.
    /// </summary>
    [TestCase(64, true)]
    [TestCase(65, false)]
    public void The_sums_fit_8192_floats(int filters, bool maxima)
    {
        string source = "using CnnGen;\nnamespace TrainingNetworks;\n"
            + $"[Network(Trainable = true), Input(1, 4, 4)]\n[Conv2D(128, 1, Name = \"z\"), Conv2D({filters}, 1, Name = \"a\", Activation = Activation.Relu), MaxPool2D(2, Name = \"p\")]\n[Flatten, Dense(5, Name = \"fc\")]\npublic partial class SumsNet;";
        var files = GeneratorHarness.Run(source).Files;
        foreach (VectorWidth width in GeneratorHarness.Widths)
        {
            string backward = TrainingNetworks.BackwardSource(files, width);
            Assert.That(backward.Contains("private static void ABackwardWeights(ref float x, ref float maxima, int count,", System.StringComparison.Ordinal), Is.EqualTo(maxima), $"{filters} filters, {width}");
            if (maxima)
            {
                Assert.That(backward, Does.Contain("stackalloc float[8192]"), $"{width}: the sums");
            }
        }
    }

    /// <summary>
    /// A CHW kernel row's load reads a vector from the row's first column, past the kernel's last column: every such load
    /// stays in the image's workspace (the input lies in it, and at least the maxima follow it), in every plan of these
    /// tests' networks and LeNet-5.
    /// </summary>
    [Test]
    public void Row_loads_stay_in_the_images_workspace()
    {
        int planar = 0;
        foreach (string source in new[] { "using CnnGen;\nnamespace TrainingNetworks;\n" + MaximaNet, "using CnnGen;\nnamespace TrainingNetworks;\n" + OddNet, "using CnnGen;\nnamespace TrainingNetworks;\n" + TieNet, TrainingNetworks.LeNet5Source })
        {
            var net = GeneratorHarness.Models(source).Single().Net;
            foreach (var plan in CnnGen.Generator.Planning.TrainingPlanner.Plan(net).Plans)
            {
                int v = plan.Forward.Machine.Width;
                foreach (var k in plan.Kernels.OfType<CnnGen.Generator.Planning.Kernels.ConvWeightsFromMaximaKernel>().Where(k => k.Planar))
                {
                    planar++;
                    Assert.That(k.X.External, Is.False, k.Method);
                    Assert.That(k.X.Offset + k.X.Floats + (v - k.Window.KernelW), Is.LessThanOrEqualTo(plan.ImageFloats), $"{k.Method} at {v} lanes");
                    Assert.That(k.Maxima.Offset + k.Maxima.Floats, Is.LessThanOrEqualTo(plan.ImageFloats), $"{k.Method} at {v} lanes: the maxima");
                }
            }
        }

        Assert.That(planar, Is.GreaterThanOrEqualTo(6), "the CHW layers taking the maxima");
    }

    [TestCaseSource(typeof(TrainingNetworks), nameof(TrainingNetworks.WidthsAndThreads))]
    public void Gradients_match_the_reference(VectorWidth width, int threads)
    {
        using NetworkTrainer trainer = Create(width, threads);
        TrainingNetworks.AssertSgdStepsMatch(trainer, Reference(), steps: 2, Batch, Classes, inputSeed: 210, labelStride: 2, Tolerance, $"{width}, {threads} thread(s)");
    }

    /// <summary>
    /// Input gradients requested: p's dense dy is written then, and a's weight gradient reads the maxima either way; on
    /// constant images (whose ties come from identical patches: which tap wins does not change the weight gradient, see
    /// <see cref="Ties_with_different_patches_go_to_the_first_maximum"/>) and random ones.
    /// </summary>
    [TestCaseSource(typeof(TrainingNetworks), nameof(TrainingNetworks.WidthsAndThreads))]
    public void Input_gradients_match_the_reference(VectorWidth width, int threads)
    {
        using NetworkTrainer trainer = Create(width, threads);
        var reference = Reference();
        reference.Load(trainer.ToTensorSet());
        foreach (bool constant in new[] { true, false })
        {
            float[] input = constant ? Enumerable.Repeat(0.75f, Batch * trainer.InputSize).ToArray() : TrainingNetworks.Random(Batch * trainer.InputSize, seed: 211, scale: 2f);
            float[] outputGradient = TrainingNetworks.Random(Batch * trainer.OutputSize, seed: 212);
            trainer.Forward(input, Batch, new float[Batch * trainer.OutputSize], training: true);
            float[] inputGradient = new float[Batch * trainer.InputSize];
            trainer.Backward(outputGradient, inputGradient);
            reference.ZeroGrad();
            reference.Forward(input, Batch, training: true);
            float[] expected = reference.Backward(outputGradient);
            string context = $"{width}, {threads} thread(s), {(constant ? "constant" : "random")} input";
            ConformanceCase.AssertClose(expected, inputGradient, Tolerance, Tolerance, context + ": d input");
            foreach (CnnGen.Training.Parameter p in trainer.Parameters)
            {
                Parameter<float> r = reference.Parameters.Single(q => q.Name == p.Name);
                ConformanceCase.AssertClose(r.Grad, p.ToTensor(p.Name, p.Gradient).Data, Tolerance, Tolerance, $"{context}: d {p.Name}");
            }
        }
    }

    [Test]
    public void The_tie_and_odd_networks_read_the_maxima_at_every_width()
    {
        foreach (string network in new[] { TieNet, DeepTieNet, OddNet })
        {
            var files = GeneratorHarness.Run("using CnnGen;\nnamespace TrainingNetworks;\n" + network).Files;
            foreach (VectorWidth width in GeneratorHarness.Widths)
            {
                string backward = TrainingNetworks.BackwardSource(files, width);
                Assert.That(backward, Does.Contain("private static void ABackwardWeights(ref float x, ref float maxima, int count,"), $"{network}, {width}");
                if (network == DeepTieNet)
                {
                    Assert.That(TrainingNetworks.KernelSource(backward, "PBackward"), Does.Contain("ref float dy, ref float dx, ref float maxima"), $"{width}: p writes both");
                }
            }
        }
    }

    /// <summary>
    /// Ties between different patches: a's kernel copies its input (centre tap 1, bias 0) and the input is constant over
    /// 2x2 blocks aligned with p's windows, so every window's four values tie and the weight gradient depends on which
    /// wins: the first in row-major order, as PyTorch (a kernel taking the last equal tap fails this test). Both kernels:
    /// p writing the maxima only (<see cref="TieNet"/>) and p writing the dense dy too (<see cref="DeepTieNet"/>).
    /// </summary>
    [TestCaseSource(nameof(TieCases))]
    public void Ties_with_different_patches_go_to_the_first_maximum(bool deep, VectorWidth width, int threads)
    {
        using NetworkTrainer trainer = deep ? Create(DeepTie.Value, "DeepTieNet", width, threads) : Create(Tie.Value, "TieNet", width, threads);
        float[] centre = new float[9];
        centre[4] = 1f;
        trainer.Parameters.Single(p => p.Name == "a.weight").SetValue(new Tensor("a.weight", new[] { 1, 1, 3, 3 }, centre));
        trainer.Parameters.Single(p => p.Name == "a.bias").SetValue(new Tensor("a.bias", new[] { 1 }, new float[1]));
        if (deep)
        {
            trainer.Parameters.Single(p => p.Name == "z.weight").SetValue(new Tensor("z.weight", new[] { 1, 1, 1, 1 }, new[] { 1f }));
            trainer.Parameters.Single(p => p.Name == "z.bias").SetValue(new Tensor("z.bias", new[] { 1 }, new float[1]));
        }

        var reference = ReferenceNetwork<float>.Create(new Shape(1, 8, 8), b => (deep ? b.Conv2D("z", 1, 1) : b).Conv2D("a", 1, 3, padding: 1).MaxPool2D(2, "p").Flatten().Dense("fc", 2));
        reference.Load(trainer.ToTensorSet());
        float[] blocks = TrainingNetworks.Random(Batch * 16, seed: 5, scale: 2f);
        float[] input = new float[Batch * 64];
        for (int i = 0; i < input.Length; i++)
        {
            int image = i / 64, h = i % 64 / 8, w = i % 8;
            input[i] = blocks[(image * 16) + (h / 2 * 4) + (w / 2)];
        }

        float[] outputGradient = TrainingNetworks.Random(Batch * trainer.OutputSize, seed: 6);
        trainer.Forward(input, Batch, new float[Batch * trainer.OutputSize], training: true);
        trainer.Backward(outputGradient);
        reference.ZeroGrad();
        reference.Forward(input, Batch, training: true);
        reference.Backward(outputGradient);
        foreach (CnnGen.Training.Parameter p in trainer.Parameters)
        {
            Parameter<float> r = reference.Parameters.Single(q => q.Name == p.Name);
            ConformanceCase.AssertClose(r.Grad, p.ToTensor(p.Name, p.Gradient).Data, 1e-5, 1e-5, $"{(deep ? "DeepTieNet" : "TieNet")}, {width}, {threads} thread(s): d {p.Name}");
        }
    }

    /// <summary>
    /// A NaN maximum equals no tap: dx gets 0 there, and so must a's bias gradient (no activation: g is masked where the
    /// maximum is NaN, not passed to the bias). <see cref="DeepTieNet"/>'s z (weight 3e38) turns an input of 2 into +Inf,
    /// and a's kernel row (1, -2, 1) sums +Inf and -Inf at every pixel (padding included, in any order of the
    /// multiply-adds), so every window's maximum is NaN: a's bias gradient and the input gradient are 0 (a's weight
    /// gradient is 0 x Inf, NaN, as the dense kernel's would be).
    /// </summary>
    [TestCaseSource(typeof(TrainingNetworks), nameof(TrainingNetworks.WidthsAndThreads))]
    public void A_NaN_maximum_sends_no_gradient_to_the_bias_or_the_input(VectorWidth width, int threads)
    {
        using NetworkTrainer trainer = Create(DeepTie.Value, "DeepTieNet", width, threads);
        float[] row = new float[9];
        (row[3], row[4], row[5]) = (1f, -2f, 1f);
        trainer.Parameters.Single(p => p.Name == "a.weight").SetValue(new Tensor("a.weight", new[] { 1, 1, 3, 3 }, row));
        trainer.Parameters.Single(p => p.Name == "z.weight").SetValue(new Tensor("z.weight", new[] { 1, 1, 1, 1 }, new[] { 3e38f }));
        float[] input = Enumerable.Repeat(2f, Batch * trainer.InputSize).ToArray();
        float[] output = new float[Batch * trainer.OutputSize];
        trainer.Forward(input, Batch, output, training: true);
        Assert.That(output.All(float.IsNaN), "every output is NaN");
        float[] inputGradient = new float[Batch * trainer.InputSize];
        trainer.Backward(TrainingNetworks.Random(Batch * trainer.OutputSize, seed: 7), inputGradient);
        string context = $"{width}, {threads} thread(s)";
        Assert.That(inputGradient, Is.All.EqualTo(0f), context + ": d input");
        var bias = trainer.Parameters.Single(q => q.Name == "a.bias");
        Assert.That(bias.ToTensor("a.bias", bias.Gradient).Data.ToArray(), Is.All.EqualTo(0f), $"{context}: d a.bias");
    }

    private static System.Collections.Generic.IEnumerable<TestCaseData> TieCases() =>
        from deep in new[] { false, true }
        from w in GeneratorHarness.Widths
        from threads in new[] { 1, 2 }
        select new TestCaseData(deep, w, threads).SetArgDisplayNames(deep ? "DeepTieNet" : "TieNet", w.ToString(), threads == 1 ? "1 thread" : "2 threads");

    /// <summary><see cref="OddNet"/>'s CHW first layer (kernel rows 4 columns wide, stride and dilation along the height, asymmetric padding).</summary>
    [TestCaseSource(typeof(TrainingNetworks), nameof(TrainingNetworks.WidthsAndThreads))]
    public void A_strided_dilated_asymmetrically_padded_first_layer_matches_the_reference(VectorWidth width, int threads)
    {
        using NetworkTrainer trainer = Create(Odd.Value, "OddNet", width, threads);
        var reference = ReferenceNetwork<float>.Create(new Shape(3, 20, 20), b => b
            .Conv2D("a", 8, (3, 4), (2, 1), (1, 0, 2, 3), (2, 1), groups: 1, bias: true, activation: Activation.Relu)
            .MaxPool2D(2, "p").Flatten().Dense("fc", Classes));
        TrainingNetworks.AssertSgdStepsMatch(trainer, reference, steps: 2, Batch, Classes, inputSeed: 210, labelStride: 2, Tolerance, $"{width}, {threads} thread(s)");
    }
}
