using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using CnnGen.Generator.Emit;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Generator;

/// <summary>
/// The generator at scale: long networks and huge kernels generate code whose every method stays far below the JIT's
/// limits and whose size follows what differs between layers (shared kernels and loaders, forward passes in parts,
/// loops over windows past the unroll budget), and that code computes what the reference layers compute.
/// </summary>
public sealed class ScaleTests
{
    /// <summary>Where every test here keeps methods: a quarter (kernels) to a half (a 500-layer constructor) of the JIT's 60 KB.</summary>
    private const int KernelLimitBytes = 16 * 1024;

    private const int MethodLimitBytes = 30 * 1024;

    private const int LocalsLimit = 256;

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>500 3x3 convolutions, alternating 8 and 16 channels, then a global pool and a dense layer.</summary>
    private static (string Declaration, Action<IReferenceNetworkBuilder> Define) Chain(int layers)
    {
        var declaration = new StringBuilder("using CnnGen;\nnamespace Scale;\n[Network, Input(3, 8, 8)]\n");
        for (int i = 0; i < layers; i++)
        {
            declaration.Append($"[Conv2D({I(i % 2 == 0 ? 8 : 16)}, 3, Padding = 1, Activation = Activation.Relu, Name = \"block{I(i)}.conv\")]\n");
        }

        declaration.Append("[GlobalAvgPool2D(Name = \"pool\"), Flatten(Name = \"flatten\"), Dense(10, Name = \"fc\")]\npublic partial class Chain;\n");
        return (declaration.ToString(), b =>
        {
            for (int i = 0; i < layers; i++)
            {
                b.Conv2D($"block{I(i)}.conv", i % 2 == 0 ? 8 : 16, 3, padding: 1, activation: Activation.Relu);
            }

            b.GlobalAvgPool2D("pool").Flatten("flatten").Dense("fc", 10);
        });
    }

    [Test]
    public void A_500_layer_chain_stays_far_below_the_JIT_limits_and_computes_what_the_reference_computes()
    {
        var (declaration, define) = Chain(500);
        var result = GeneratorHarness.Run(declaration);
        Assert.That(result.GeneratorDiagnostics, Is.Empty);

        // 500 convolutions of three shapes: three loaders (and the dense layer's); four kernels per width (the last
        // convolution's output has no zero border, the pool reads it); Forward in parts of 64 steps.
        var model = GeneratorHarness.Models(declaration).Single();
        Assert.That(model.Common.Loaders.Distinct().Count(), Is.EqualTo(4), "loaders: three convolutions and the dense layer");
        foreach (var plan in model.Plans)
        {
            var convs = plan.Steps.Where(s => s.Kernel is ConvKernel or PixelConvKernel or WinogradKernel).ToList();
            Assert.That(convs, Has.Count.EqualTo(500));
            Assert.That(convs.Select(s => s.Kernel.Method).Distinct().Count(), Is.EqualTo(4), plan.VectorType + " kernels");
            Assert.That(plan.Parts.Select(p => p.Count), Is.All.LessThanOrEqualTo(Planner.MaxStepsPerMethod), plan.VectorType);
            Assert.That(plan.Parts.Sum(p => p.Count), Is.EqualTo(plan.Steps.Count(s => !s.RowFused)), plan.VectorType);
        }

        // The 500-convolution chain made 34.8 MB of source: what differs is now one line per layer per file.
        foreach (var (hint, text) in result.Files)
        {
            Assert.That(Encoding.UTF8.GetByteCount(text), Is.LessThan(400_000), hint);
        }

        var bodies = MethodBodies.Of(result.Output);
        AssertFarBelowTheLimits(bodies, MethodLimitBytes);
        Assert.That(bodies.Where(b => !b.Method.EndsWith(".ctor", StringComparison.Ordinal)).Max(b => b.Bytes), Is.LessThan(KernelLimitBytes), "largest kernel or forward part");

        AssertComputesTheReference(result, "Scale.Chain", new Shape(3, 8, 8), define, seed: 500, atol: 1e-4);
    }

    /// <summary>Windows far past the unroll budget, one network per kernel family that unrolls a window.</summary>
    private static readonly (string Name, string Declaration, Shape Input, Action<IReferenceNetworkBuilder> Define)[] Huge =
    {
        // The case: a 1001x1001 'same' convolution (three methods of 217 KB of IL and a 43 s build before).
        ("HugeConv", "[Network, Input(1, 3, 3), Conv2D(4, 1001, Padding = 500, Name = \"conv\")] public partial class HugeConv;",
            new Shape(1, 3, 3), b => b.Conv2D("conv", 4, 1001, padding: 500)),

        // A first layer vectorized over pixels (one channel, two filters, rows of 16 pixels).
        ("HugePixels", "[Network, Input(1, 16, 16), Conv2D(2, 301, Padding = 150, Name = \"conv\", Activation = Activation.Relu)] public partial class HugePixels;",
            new Shape(1, 16, 16), b => b.Conv2D("conv", 2, 301, padding: 150, activation: Activation.Relu)),

        ("HugeDepthwise", "[Network, Input(8, 8, 8), Conv2D(8, 151, Padding = 75, Groups = 8, Name = \"dw\")] public partial class HugeDepthwise;",
            new Shape(8, 8, 8), b => b.Conv2D("dw", 8, 151, padding: 75, groups: 8)),

        // Windows inside the input, which an exact pool would unroll: 625 and 676 taps.
        ("HugePools", "[Network, Input(4, 52, 52), AvgPool2D(25, Stride = 1, Name = \"avg\"), MaxPool2D(26, Name = \"max\")] public partial class HugePools;",
            new Shape(4, 52, 52), b => b.AvgPool2D((25, 25), (1, 1), (0, 0), false, true, "avg").MaxPool2D(26, "max")),
    };

    private static IEnumerable<TestCaseData> HugeCases() => Huge.Select((h, i) => new TestCaseData(i).SetName("Huge_windows_loop_instead_of_unrolling(" + h.Name + ")"));

    [TestCaseSource(nameof(HugeCases))]
    public void Huge_windows_loop_instead_of_unrolling(int index)
    {
        var (name, body, input, define) = Huge[index];
        string declaration = "using CnnGen;\nnamespace Scale;\n" + body + "\n";
        var result = GeneratorHarness.Run(declaration);
        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        foreach (var plan in GeneratorHarness.Models(declaration).Single().Plans)
        {
            foreach (var kernel in plan.Steps.Select(s => s.Kernel))
            {
                string what = $"{plan.VectorType} {kernel.Method}";
                switch (kernel)
                {
                    case ConvKernel k: Assert.That(k.Unroll, Is.EqualTo(Unroll.None), what); break;
                    case PixelConvKernel k: Assert.That(k.Unroll, Is.EqualTo(Unroll.None), what); break;
                    case DepthwiseKernel k: Assert.That(k.Unroll, Is.EqualTo(Unroll.None), what); break;
                    case PoolKernel k: Assert.That(k.Exact, Is.False, what); break;
                }
            }
        }

        var bodies = MethodBodies.Of(result.Output);
        AssertFarBelowTheLimits(bodies, KernelLimitBytes);
        Assert.That(bodies.Max(b => b.Bytes), Is.LessThan(4 * 1024), "a window's loops are a few KB of IL whatever the window");
        AssertComputesTheReference(result, "Scale." + name, input, define, seed: index, atol: 1e-4);
    }

    /// <summary>Repeated blocks of every kind a kernel can be shared between, and a chain long enough for Forward to come in parts.</summary>
    private static readonly string Repeated = BuildRepeated();

    private static string BuildRepeated()
    {
        var s = new StringBuilder("[Network, Input(8, 12, 12)]\n");
        s.Append("[Conv2D(16, 3, Padding = 1, Bias = false, Name = \"stem\"), BatchNorm2D(Name = \"stem_bn\", Activation = Activation.Relu)]\n");
        string previous = "stem_bn";
        for (int i = 0; i < 3; i++)
        {
            // Residual blocks: the second convolution does the Add in its store.
            s.Append($"[Conv2D(16, 3, Padding = 1, Name = \"b{I(i)}.conv1\", Activation = Activation.Relu), Conv2D(16, 3, Padding = 1, Bias = false, Name = \"b{I(i)}.conv2\"), BatchNorm2D(Name = \"b{I(i)}.bn2\")]\n");
            s.Append($"[Add(\"{previous}\", \"b{I(i)}.bn2\", Name = \"b{I(i)}\", Activation = Activation.Relu)]\n");
            previous = $"b{I(i)}";
        }

        for (int i = 0; i < 2; i++)
        {
            // Depthwise + pointwise pairs, run row by row.
            s.Append($"[Conv2D(16, 3, Padding = 1, Groups = 16, Name = \"s{I(i)}.dw\", Activation = Activation.Relu6), Conv2D(16, 1, Name = \"s{I(i)}.pw\", Activation = Activation.Relu6)]\n");
        }

        for (int i = 0; i < 2; i++)
        {
            s.Append($"[BatchNorm2D(Name = \"n{I(i)}\"), ReLU(Name = \"r{I(i)}\"), MaxPool2D(3, Stride = 1, Padding = 1, Name = \"p{I(i)}\")]\n");
        }

        for (int i = 0; i < 64; i++)
        {
            s.Append($"[Conv2D(16, 1, Name = \"c{I(i)}\", Activation = Activation.Tanh)]\n");
        }

        s.Append("[GlobalAvgPool2D(Name = \"gap\"), Flatten(Name = \"flat\")]\n");
        s.Append("[Dense(16, Name = \"fc0\", Activation = Activation.Relu), Dense(16, Name = \"fc1\", Activation = Activation.Relu), Dense(10, Name = \"out\")]\n");
        s.Append("public partial class Repeated;\n");
        return s.ToString();
    }

    [Test]
    public void Shared_kernels_compute_bit_identical_outputs_to_unshared_ones()
    {
        var net = GeneratorHarness.Models("using CnnGen;\nnamespace Base;\n" + Repeated).Single().Net;
        var sources = new List<string>();
        var plans = new Dictionary<string, NetworkModel>();
        foreach (var (ns, options) in new[] { ("Shared", PlanOptions.Inference), ("Unshared", PlanOptions.Inference with { ShareKernels = false }) })
        {
            var (common, widths) = Planner.Plan(net, options, MachineModel.Targets);
            var renamed = net with { Spec = net.Spec with { Namespace = ns } };
            var model = new NetworkModel { Net = renamed, Common = common, Plans = widths.Select(p => p with { Net = renamed }).ToEquatableArray(), SpecHash = "0" };
            plans[ns] = model;
            sources.AddRange(Emitter.Emit(model).Select(f => f.Text));
            sources.Add($"using CnnGen;\nnamespace {ns}\n{{\n{Repeated}\n}}\n");
        }

        // Sharing changes names only: the same steps, tensors and weights; fewer kernels.
        foreach (var (shared, unshared) in plans["Shared"].Plans.Zip(plans["Unshared"].Plans))
        {
            Assert.That(shared.Steps.Select(s => (s.Kind, s.Layer, s.Arguments, s.WeightFields)), Is.EqualTo(unshared.Steps.Select(s => (s.Kind, s.Layer, s.Arguments, s.WeightFields))));
            Assert.That(shared.Tensors, Is.EqualTo(unshared.Tensors));
            Assert.That(shared.Packs, Is.EqualTo(unshared.Packs));
            Assert.That(unshared.Steps.Select(s => s.Kernel.Method).Distinct().Count(), Is.EqualTo(unshared.Steps.Count), "unshared: a kernel per step");
            Assert.That(shared.Steps.Select(s => s.Kernel.Method).Distinct().Count(), Is.LessThanOrEqualTo(unshared.Steps.Count - 70), shared.VectorType + ": shared kernels");
            Assert.That(shared.Parts, Has.Count.EqualTo(2), "Forward in two parts");
        }

        var assembly = GeneratorHarness.CompileWithoutGenerator(sources);
        var (weights, reference) = Weights(new Shape(8, 12, 12), DefineRepeated, seed: 7);
        int batch = 3;
        var rng = new Random(3);
        var input = Enumerable.Range(0, batch * 8 * 12 * 12).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        foreach (var width in GeneratorHarness.Widths)
        {
            var options = new LoadOptions { VectorWidth = width };
            var shared = GeneratorHarness.Load(assembly, "Shared.Repeated", weights, options);
            var unshared = GeneratorHarness.Load(assembly, "Unshared.Repeated", weights, options);
            var expected = new float[batch * 10];
            var actual = new float[batch * 10];
            unshared.PredictBatch(input, expected, batch);
            shared.PredictBatch(input, actual, batch);
            Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)), $"{width}: bit for bit");

            var single = new float[10];
            shared.Predict(input.AsSpan(0, 8 * 12 * 12), single);
            var doubles = reference.Forward(ReferenceNetwork<double>.From(input.Take(8 * 12 * 12)), 1, training: false);
            ConformanceCase.AssertClose(doubles.Select(d => (float)d).ToArray(), single, 1e-4, 1e-3, $"{width} vs the reference");
        }
    }

    private static void DefineRepeated(IReferenceNetworkBuilder b)
    {
        b.Conv2D("stem", 16, 3, padding: 1, bias: false).BatchNorm2D("stem_bn", activation: Activation.Relu);
        string previous = "stem_bn";
        for (int i = 0; i < 3; i++)
        {
            b.Conv2D($"b{I(i)}.conv1", 16, 3, padding: 1, activation: Activation.Relu).Conv2D($"b{I(i)}.conv2", 16, 3, padding: 1, bias: false).BatchNorm2D($"b{I(i)}.bn2");
            b.Add(previous, $"b{I(i)}.bn2", $"b{I(i)}", Activation.Relu);
            previous = $"b{I(i)}";
        }

        for (int i = 0; i < 2; i++)
        {
            b.Conv2D($"s{I(i)}.dw", 16, 3, padding: 1, groups: 16, activation: Activation.Relu6).Conv2D($"s{I(i)}.pw", 16, 1, activation: Activation.Relu6);
        }

        for (int i = 0; i < 2; i++)
        {
            b.BatchNorm2D($"n{I(i)}").Relu($"r{I(i)}").MaxPool2D((3, 3), (1, 1), (1, 1), (1, 1), false, $"p{I(i)}");
        }

        for (int i = 0; i < 64; i++)
        {
            b.Conv2D($"c{I(i)}", 16, 1, activation: Activation.Tanh);
        }

        b.GlobalAvgPool2D("gap").Flatten("flat").Dense("fc0", 16, activation: Activation.Relu).Dense("fc1", 16, activation: Activation.Relu).Dense("out", 10);
    }

    [Test]
    public void A_shared_kernel_is_written_once_and_named_for_what_it_computes()
    {
        var files = GeneratorHarness.Run("using CnnGen;\nnamespace Scale;\n" + Repeated).Files;
        string kernels = files.Single(f => f.Key.EndsWith(".Kernels256.g.cs", StringComparison.Ordinal)).Value;
        string shell = files.Single(f => f.Key == "Scale.Repeated.g.cs").Value;

        // The three blocks' first convolutions: one method (Winograd's: its tiles' scratch is s), its summary naming the layers, called three times.
        Assert.That(Occurrences(kernels, "private static void Conv3x3_16To16_12x12(ref float x, ref float s, ref float y, float[] weight, float[] bias)"), Is.EqualTo(1));
        Assert.That(kernels, Does.Contain("/// <summary>Conv2D + Relu -&gt; 16x12x12, for 3 layers: b0.conv1, b1.conv1, b2.conv1.</summary>"));
        // Its six tile rows are one Winograd block, so no step of this network is worth splitting between threads: one
        // forward pass (ThreadSplitTests covers split Winograd blocks).
        Assert.That(Occurrences(kernels, "Conv3x3_16To16_12x12(ref "), Is.EqualTo(4), "defined once, called three times by Forward");
        Assert.That(kernels, Does.Contain("Conv3x3_16To16_12x12(ref t").And.Contain("net._b1Conv1Weight, net._b1Conv1Bias);"));

        // A kernel used by one layer keeps the layer's name; a fused Add's residual is the kernel's parameter r.
        Assert.That(kernels, Does.Contain("private static void Stem(ref float x, ref float y, float[] weight, float[] bias)"));
        Assert.That(kernels, Does.Contain("// the fused layer: add the residual 'r' before the activation"));

        // The 64 tanh convolutions share a kernel, and Forward runs in two parts.
        Assert.That(kernels, Does.Contain("for 64 layers: c0, c1, c2, c3 and 60 more."));
        Assert.That(kernels, Does.Contain("// 83 steps in 2 parts of at most 64, so that no method nears the JIT's limits."));
        Assert.That(kernels, Does.Contain("private static bool Forward_Steps1To64(Repeated net, ref float input, ref float output, float[] workspace)"));
        Assert.That(kernels, Does.Contain("private static void Forward_Steps65To83(Repeated net, ref float input, ref float output, float[] workspace)"));

        // Loaders: one per distinct layer load, the constructor one line per layer.
        Assert.That(Occurrences(shell, "private static (float[] Weight, float[] Bias) LoadConv1x1_16To16("), Is.EqualTo(1));
        Assert.That(Occurrences(shell, "= LoadConv1x1_16To16(reader, _width, \"c"), Is.EqualTo(64));
        Assert.That(shell, Does.Contain("(_b1Conv2Weight, _b1Conv2Bias) = LoadConv3x3_16To16_v2(reader, _width, \"b1.conv2\", \"b1.bn2\");"));
    }

    private static int Occurrences(string text, string what)
    {
        int n = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }

    private static void AssertFarBelowTheLimits(IReadOnlyList<MethodBodySize> bodies, int limit)
    {
        var largest = bodies.MaxBy(b => b.Bytes)!;
        var most = bodies.MaxBy(b => b.Locals)!;
        Assert.That(largest.Bytes, Is.LessThan(limit), $"largest method: {largest.Method} (the JIT's limit is {MethodBodies.JitLimitBytes} bytes)");
        Assert.That(most.Locals, Is.LessThan(LocalsLimit), $"most locals: {most.Method}");
    }

    /// <summary>Random weights (He-uniform convolutions and dense layers, batch norms near identity) in PyTorch's names, and the double-precision reference holding them.</summary>
    private static (TensorSet Weights, ReferenceNetwork<double> Reference) Weights(Shape input, Action<IReferenceNetworkBuilder> define, int seed)
    {
        var reference = ReferenceNetwork<double>.Create(input, define);
        var rng = new Random(seed);
        float[] Uniform(int n, double lo, double hi) => Enumerable.Range(0, n).Select(_ => (float)(lo + (rng.NextDouble() * (hi - lo)))).ToArray();
        var tensors = new List<Tensor>();
        foreach (var p in reference.Parameters)
        {
            int fan = p.Shape.Skip(1).Aggregate(1, (a, b) => a * b);
            double bound = Math.Sqrt(6.0 / fan);
            float[] values = p.Shape.Length > 1 ? Uniform(p.Value.Length, -bound, bound)
                : p.Name.EndsWith(".weight", StringComparison.Ordinal) ? Uniform(p.Value.Length, 0.5, 1.5) // a batch norm's scale
                : Uniform(p.Value.Length, -0.05, 0.05);
            tensors.Add(new Tensor(p.Name, p.Shape, values));
        }

        foreach (var (name, value) in reference.Buffers)
        {
            tensors.Add(new Tensor(name, new[] { value.Length }, name.EndsWith("running_var", StringComparison.Ordinal) ? Uniform(value.Length, 0.5, 1.5) : Uniform(value.Length, -0.2, 0.2)));
        }

        var set = new TensorSet(tensors);
        reference.Load(set);
        return (set, reference);
    }

    /// <summary>Loads the generated network at every width and compares one prediction with the double-precision reference.</summary>
    private static void AssertComputesTheReference(GeneratorResult result, string type, Shape input, Action<IReferenceNetworkBuilder> define, int seed, double atol)
    {
        var (weights, reference) = Weights(input, define, seed);
        var rng = new Random(seed);
        var x = Enumerable.Range(0, input.Size).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var expected = reference.Forward(ReferenceNetwork<double>.From(x), 1, training: false).Select(d => (float)d).ToArray();
        double scale = Math.Max(1, expected.Max(Math.Abs));
        var assembly = GeneratorHarness.LoadCompiled(result);
        foreach (var width in GeneratorHarness.Widths)
        {
            var net = GeneratorHarness.Load(assembly, type, weights, new LoadOptions { VectorWidth = width });
            var output = new float[net.OutputSize];
            net.Predict(x, output);
            ConformanceCase.AssertClose(expected, output, atol * scale, 1e-3, $"{type} {width}");
        }
    }
}
