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
/// layer without an activation (the pool passes dy unmasked and adds its bias gradient); against the reference executor on every width and 1 and 2 threads (random inputs: many windows are all negative
/// under the ReLU), with input gradients, and on constant inputs (every window's values tie: the first maximum wins, as
/// PyTorch). LeNet-5's gradients against PyTorch: <c>GeneratedGoldenTests</c>.
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

    private static readonly System.Lazy<Assembly> Compiled = new(() => GeneratorHarness.CompileAndLoad("using CnnGen;\nnamespace TrainingNetworks;\n" + MaximaNet));

    private static NetworkTrainer Create(VectorWidth width, int threads) =>
        (NetworkTrainer)Compiled.Value.GetType("TrainingNetworks.MaximaNet+Trainer", throwOnError: true)!
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
    /// The dense weight gradient stays wherever the condition fails: overlapping windows, an average pool, an activation
    /// other than ReLU (its derivative is a pass of its own over the dense dy), a grouped convolution, a convolution read by more than its pool (<c>PoolGradientNet</c>'s a).
    /// </summary>
    [TestCase("Conv2D(4, 3, Name = \"a\", Activation = Activation.Relu), MaxPool2D(3, Stride = 2, Name = \"p\")", 9)]
    [TestCase("Conv2D(4, 3, Name = \"a\", Activation = Activation.Relu), AvgPool2D(2, Name = \"p\")", 8)]
    [TestCase("Conv2D(4, 3, Name = \"a\", Activation = Activation.Tanh), MaxPool2D(2, Name = \"p\")", 8)]
    [TestCase("Conv2D(4, 3, Groups = 2, Name = \"a\", Activation = Activation.Relu), MaxPool2D(2, Name = \"p\")", 8)]
    [TestCase("Conv2D(4, 3, Name = \"a\", Activation = Activation.Relu), MaxPool2D(2, Name = \"p\"), Conv2D(4, 2, Stride = 2, From = \"a\", Name = \"s\"), Add(\"p\", \"s\")", 8)]
    public void The_dense_weight_gradient_stays_outside_the_condition(string layers, int size)
    {
        string source = "using CnnGen;\nnamespace TrainingNetworks;\n"
            + $"[Network(Trainable = true), Input(2, {size + 2}, {size + 2})]\n[{layers}]\n[Flatten, Dense(5, Name = \"fc\")]\npublic partial class DenseWeightsNet;";
        var files = GeneratorHarness.Run(source).Files;
        foreach (VectorWidth width in GeneratorHarness.Widths)
        {
            string backward = TrainingNetworks.BackwardSource(files, width);
            Assert.That(backward, Does.Contain("ABackwardWeightsTaps").And.Not.Contain("ref float maxima"), $"{layers}, {width}");
        }
    }

    [TestCaseSource(typeof(TrainingNetworks), nameof(TrainingNetworks.WidthsAndThreads))]
    public void Gradients_match_the_reference(VectorWidth width, int threads)
    {
        using NetworkTrainer trainer = Create(width, threads);
        TrainingNetworks.AssertSgdStepsMatch(trainer, Reference(), steps: 2, Batch, Classes, inputSeed: 210, labelStride: 2, Tolerance, $"{width}, {threads} thread(s)");
    }

    /// <summary>
    /// Constant images (every window of a's interior ties, and so do b's and c's where their inputs are constant) and
    /// random ones, with the input gradient requested: p's dense dy is written then, and a's weight gradient reads the
    /// maxima either way.
    /// </summary>
    [TestCaseSource(typeof(TrainingNetworks), nameof(TrainingNetworks.WidthsAndThreads))]
    public void Ties_and_input_gradients_match_the_reference(VectorWidth width, int threads)
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
}
