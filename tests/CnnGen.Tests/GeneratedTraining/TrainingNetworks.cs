using System;
using System.Linq;
using System.Reflection;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Tests.Runtime;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// Small trainable networks declared in memory for the trainer's behaviour tests (dropout in a map and in a vector, batch
/// norm in training mode, a split SiLU, an output map that only the mean squared error can train, squeeze-and-excitation
/// with an overlapping adaptive pool), and helpers to create generated trainers by reflection and to compare their whole
/// state bit for bit.
/// </summary>
public static class TrainingNetworks
{
    /// <summary>conv + ReLU, dropout on the map, conv + SiLU (a step of its own), batch norm, flatten, dropout on the vector, dense.</summary>
    public const string DropoutNet = """
        [Network(Trainable = true), Input(3, 6, 6)]
        [Conv2D(4, 3, Padding = 1, Name = "c1", Activation = Activation.Relu), Dropout(0.25f, Name = "d1")]
        [Conv2D(5, 3, Name = "c2", Activation = Activation.SiLU), BatchNorm2D(Name = "bn")]
        [Flatten, Dropout(0.5f, Name = "d2"), Dense(7, Name = "fc")]
        public partial class DropoutNet;
        """;

    /// <summary>A network whose output is a 2 x 4 x 4 map: no cross-entropy, the mean squared error trains it.</summary>
    public const string MapNet = """
        [Network(Trainable = true), Input(2, 6, 6)]
        [Conv2D(3, 3, Name = "c1", Activation = Activation.Tanh), Conv2D(2, 1, Name = "c2")]
        public partial class MapNet;
        """;

    /// <summary>
    /// Squeeze-and-excitation (EfficientNet's MBConv block's gate): a convolution, its global average, a 1x1 convolution with
    /// SiLU (a step of its own) and one with Sigmoid giving one scale per channel, the map times its scales with a fused
    /// ReLU, then an adaptive average pool of the 10x10 map to 3x3 (windows of 4 overlapping by one), flatten, dense.
    /// 6 channels: padded lanes at every width.
    /// </summary>
    public const string SqueezeExcitationNet = """
        [Network(Trainable = true), Input(3, 10, 10)]
        [Conv2D(6, 3, Padding = 1, Name = "conv"), GlobalAvgPool2D(Name = "squeeze")]
        [Conv2D(3, 1, Name = "reduce", Activation = Activation.SiLU), Conv2D(6, 1, Name = "expand", Activation = Activation.Sigmoid)]
        [Multiply("conv", "expand", Name = "excite", Activation = Activation.Relu)]
        [AdaptiveAvgPool2D(3, Name = "pool"), Flatten, Dense(5, Name = "fc")]
        public partial class SqueezeExcitationNet;
        """;

    /// <summary>
    /// A 2x2 max pool whose windows tile its 8x8 input (its backward may overwrite the input's gradient) while a strided
    /// convolution reads the same input: in backward order the convolution's scatter writes d(a) first, so the pool must
    /// add into it. Then a 2x2 average pool of a 7x7 map, whose windows miss the last row and column (its backward must
    /// not overwrite: those pixels' gradients are zero).
    /// </summary>
    public const string PoolGradientNet = """
        [Network(Trainable = true), Input(3, 8, 8)]
        [Conv2D(6, 3, Padding = 1, Name = "a", Activation = Activation.Relu), MaxPool2D(2, Name = "p")]
        [Conv2D(6, 2, Stride = 2, From = "a", Name = "b"), Add("p", "b", Name = "sum")]
        [Conv2D(5, 2, Padding = 2, Name = "c", Activation = Activation.Relu), AvgPool2D(2, Name = "q")]
        [Flatten, Dense(5, Name = "fc")]
        public partial class PoolGradientNet;
        """;

    /// <summary>
    /// A convolution whose input gradient is gathered over its filters (<c>ConvDataGatherKernel</c>) on every width: 2
    /// input channels (a vector's padding at every width) into 32 filters, 5x5 with padding 1, so its 12x12 input has
    /// border columns (chunks at fixed columns) and interior columns (tiles); its ReLU folds into the max pool's backward.
    /// </summary>
    public const string GatherDataNet = """
        [Network(Trainable = true), Input(3, 12, 12)]
        [Conv2D(2, 3, Padding = 1, Name = "a", Activation = Activation.Relu)]
        [Conv2D(32, 5, Padding = 1, Name = "b", Activation = Activation.Relu), MaxPool2D(2, Name = "p")]
        [Flatten, Dense(5, Name = "fc")]
        public partial class GatherDataNet;
        """;

    /// <summary>
    /// Convolutions whose input gradients are scattered over one vector of input channels (3 or 4 channels: one vector at
    /// every width, and too few filters for the gather), stride 1, so the planner takes two kernel columns per pass
    /// (<c>ConvDataKernel.TapPairs</c>): "b" 5x5 (a loop over two pairs, then the last column alone), "c" 4x4 (pairs only),
    /// "e" 3x3 (one pair, then the last column); "d" has stride 2 and keeps one column per pass. Rows of 11 and 10 pixels
    /// give narrower last tiles.
    /// </summary>
    public const string TapPairsNet = """
        [Network(Trainable = true), Input(3, 10, 11)]
        [Conv2D(3, 3, Padding = 1, Name = "a", Activation = Activation.Relu)]
        [Conv2D(4, 5, Padding = 2, Name = "b", Activation = Activation.Relu)]
        [Conv2D(3, 4, Padding = 1, Name = "c", Activation = Activation.Relu)]
        [Conv2D(4, 3, Stride = 2, Padding = 1, Name = "d", Activation = Activation.Relu)]
        [Conv2D(5, 3, Padding = 1, Name = "e", Activation = Activation.Relu)]
        [Flatten, Dense(5, Name = "fc")]
        public partial class TapPairsNet;
        """;

    /// <summary>
    /// A weight gradient over pixel pairs with few accumulators at every width: "a" (1 channel into 4 filters, 2x2, 9
    /// pixels a row) holds 4 accumulators, too few to hide the FMA latency with two dependent multiply-adds each per step,
    /// so the pair's second pixel adds into a second set; "b" (4 channels) has enough.
    /// </summary>
    public const string PairSetsNet = """
        [Network(Trainable = true), Input(1, 10, 10)]
        [Conv2D(4, 2, Name = "a", Activation = Activation.Relu)]
        [Conv2D(3, 3, Padding = 1, Name = "b", Activation = Activation.Relu)]
        [Flatten, Dense(5, Name = "fc")]
        public partial class PairSetsNet;
        """;

    /// <summary>LeNet-5 as the generator tests declare it (a source file of its own, class <c>Net</c>), with its pools named.</summary>
    public const string LeNet5Source = "using CnnGen;\nnamespace TrainingNetworks;\n[Network(Trainable = true), Input(1, 28, 28)]\n"
        + "[Conv2D(6, 5, Padding = 2, Name = \"conv1\"), ReLU, MaxPool2D(2, Name = \"pool1\")]\n"
        + "[Conv2D(16, 5, Name = \"conv2\"), ReLU, MaxPool2D(2, Name = \"pool2\"), Flatten]\n"
        + "[Dense(120), ReLU, Dense(84), ReLU, Dense(10)]\npublic partial class Net;";

    /// <summary>The generated backward kernel class of <paramref name="width"/> among a generator run's files.</summary>
    public static string BackwardSource(System.Collections.Generic.IReadOnlyDictionary<string, string> files, VectorWidth width)
    {
        int bits = width switch { VectorWidth.V128 => 128, VectorWidth.V256 => 256, _ => 512 };
        return files.Single(f => f.Key.EndsWith($".Backward{bits}.g.cs", StringComparison.Ordinal)).Value;
    }

    /// <summary>The text of the generated method <paramref name="name"/>, from its signature to the next method's.</summary>
    public static string KernelSource(string backward, string name)
    {
        int at = backward.IndexOf($"private static void {name}(", StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThan(0), name);
        int end = backward.IndexOf("private static void ", at + 20, StringComparison.Ordinal);
        return backward.Substring(at, (end < 0 ? backward.Length : end) - at);
    }

    /// <summary>
    /// A dense layer the threads split by output columns that is not the first step: "big" (2,048 features from the
    /// second convolution's HWC map; the first convolution's input gradient is written after big's weight gradient, in
    /// the slot big's dy would free, while a slower thread may still read every image's dy there); 136 units: 278,528 weights, past <c>MachineModel.DenseColumnSplitFloats</c>) reads a map the
    /// threads wrote image by image, needs its input gradient, and pads 136 units to 144 at Vector512 (9 vectors; 17 at
    /// Vector256: uneven shares on 2 and 3 threads); "fc" keeps the batch split.
    /// </summary>
    public const string ColumnSplitNet = """
        [Network(Trainable = true), Input(4, 16, 16)]
        [Conv2D(8, 3, Padding = 1, Name = "a", Activation = Activation.Relu), Conv2D(8, 3, Padding = 1, Name = "b", Activation = Activation.Relu), Flatten]
        [Dense(136, Name = "big", Activation = Activation.Relu), Dense(5, Name = "fc")]
        public partial class ColumnSplitNet;
        """;

    private static readonly Lazy<Assembly> Compiled = new(() =>
        GeneratorHarness.CompileAndLoad("using CnnGen;\nnamespace TrainingNetworks;\n" + DropoutNet + "\n" + MapNet + "\n" + SqueezeExcitationNet + "\n" + PoolGradientNet + "\n" + GatherDataNet + "\n" + TapPairsNet + "\n" + PairSetsNet + "\n" + ColumnSplitNet + "\n"));

    /// <summary>A trainer of the named in-memory network with PyTorch's initialisation from <paramref name="seed"/>.</summary>
    public static NetworkTrainer Create(string name, ulong seed, TrainerOptions? options = null) =>
        (NetworkTrainer)Invoke(name, "Create", new[] { typeof(ulong), typeof(TrainerOptions) }, seed, options);

    /// <summary>A trainer of the named in-memory network loaded from <paramref name="weights"/>.</summary>
    public static NetworkTrainer Load(string name, TensorSet weights, TrainerOptions? options = null) =>
        (NetworkTrainer)Invoke(name, "Load", new[] { typeof(TensorSet), typeof(TrainerOptions) }, weights, options);

    /// <summary>Every width the generator tests run, on one and on two threads: the cases of the two-step SGD comparisons.</summary>
    public static System.Collections.Generic.IEnumerable<TestCaseData> WidthsAndThreads() =>
        from w in GeneratorHarness.Widths
        from threads in new[] { 1, 2 }
        select new TestCaseData(w, threads).SetArgDisplayNames(w.ToString(), threads == 1 ? "1 thread" : "2 threads");

    /// <summary>
    /// <paramref name="steps"/> steps of SGD (learning rate 0.1) of <paramref name="trainer"/> and of
    /// <paramref name="reference"/> loaded with the trainer's weights, each on the same random batch (seed
    /// <paramref name="inputSeed"/> + step, labels <c>(labelStride * i + step) % classes</c>), checked as
    /// <see cref="AssertStepMatches"/> checks one.
    /// </summary>
    public static void AssertSgdStepsMatch(NetworkTrainer trainer, ReferenceNetwork<float> reference, int steps, int batch, int classes, int inputSeed, int labelStride, double tolerance, string context)
    {
        reference.Load(trainer.ToTensorSet());
        var referenceParameters = reference.Parameters.Select(p => new CnnGen.Training.Parameter(p.Name, p.Shape, p.Value, p.Grad)).ToList();
        Optimizer generated = new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 0.1 });
        Optimizer expected = new Sgd(referenceParameters, new SgdOptions { LearningRate = 0.1 });
        for (int step = 0; step < steps; step++)
        {
            float[] input = Random(batch * trainer.InputSize, seed: inputSeed + step, scale: 2f);
            int[] labels = Enumerable.Range(0, batch).Select(i => ((labelStride * i) + step) % classes).ToArray();
            AssertStepMatches(trainer, generated, reference, expected, input, labels, batch, tolerance, $"{context}, step {step + 1}");
            expected.Step();
        }
    }

    /// <summary>
    /// One step of the generated trainer and the reference executor's gradients on the same batch (the reference's
    /// optimizer <paramref name="expected"/> is zeroed first; the caller steps it): the loss and every parameter gradient
    /// within <paramref name="tolerance"/> (abs + rel).
    /// </summary>
    public static void AssertStepMatches(NetworkTrainer trainer, Optimizer generated, ReferenceNetwork<float> reference, Optimizer expected, float[] input, int[] labels, int batch, double tolerance, string context)
    {
        StepResult result = trainer.Step(input, labels, batch, generated);
        expected.ZeroGradients();
        (float loss, float[] _) = reference.ComputeGradients(input, labels, batch);
        Assert.That(result.Loss, Is.EqualTo(loss).Within(tolerance * (1 + Math.Abs(loss))), context + ": loss");
        foreach (CnnGen.Training.Parameter p in trainer.Parameters)
        {
            Parameter<float> r = reference.Parameters.Single(q => q.Name == p.Name);
            ConformanceCase.AssertClose(r.Grad, p.ToTensor(p.Name, p.Gradient).Data, tolerance, tolerance, $"{context}: d {p.Name}");
        }
    }

    /// <summary>Every float of a trainer's state (weights, running statistics) and of an optimizer's state, as bits.</summary>
    public static int[] Bits(NetworkTrainer trainer, Optimizer? optimizer = null)
    {
        var tensors = trainer.ToTensorSet().Concat(optimizer?.StateTensors() ?? Array.Empty<Tensor>());
        return tensors.SelectMany(t => t.Data.ToArray()).Select(BitConverter.SingleToInt32Bits).Append((int)trainer.StepCount).ToArray();
    }

    /// <summary>Seeded uniform values in [-scale, scale].</summary>
    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)((r.NextDouble() * 2) - 1) * scale).ToArray();
    }

    private static object Invoke(string name, string method, Type[] types, params object?[] args)
    {
        Type type = Compiled.Value.GetType("TrainingNetworks." + name + "+Trainer", throwOnError: true)!;
        try
        {
            return type.GetMethod(method, types)!.Invoke(null, args)!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw ex.InnerException;
        }
    }
}
