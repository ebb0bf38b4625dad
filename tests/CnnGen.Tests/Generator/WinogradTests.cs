using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text;
using CnnGen.Generator.Emit;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using CnnGen.Generator.Shapes;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Generator;

/// <summary>
/// Winograd F(2x2, 3x3): the generated kernels against a double-precision direct convolution, with Winograd forced on
/// every eligible layer (odd sizes, 1 and many channels, batch norm folded, a fused residual add, activations, one and
/// several cache blocks) at every vector width; the weight transform; and the planner's choice and its off switch.
/// </summary>
public sealed class WinogradTests
{
    /// <summary>The networks: each Winograd candidate reads and writes HWC tensors (a 1x1 convolution before and after it).</summary>
    private static readonly string[] Declarations =
    {
        // Odd height and width (partial last tile row and column), a ReLU.
        """
        [Network, Input(4, 7, 9), Conv2D(16, 1, Name = "a"), Conv2D(12, 3, Padding = 1, Activation = Activation.Relu, Name = "w"), Conv2D(5, 1, Name = "out")]
        public partial class WinoOdd;
        """,

        // One input and one output channel.
        """
        [Network, Input(2, 6, 5), Conv2D(1, 1, Name = "a"), Conv2D(1, 3, Padding = 1, Name = "w"), Conv2D(3, 1, Name = "out")]
        public partial class WinoOneChannel;
        """,

        // A ResNet-style block: bias-free convolution, batch norm folded, the residual add and ReLU fused into its store.
        """
        [Network, Input(8, 9, 11), Conv2D(32, 1, Name = "a", Activation = Activation.Relu)]
        [Conv2D(32, 3, Padding = 1, Bias = false, Name = "w"), BatchNorm2D(Name = "bn"), Add("bn", "a", Activation = Activation.Relu, Name = "sum")]
        [Conv2D(4, 1, Name = "out")]
        public partial class WinoResidual;
        """,

        // Many channels (several weight tiles), then an unpadded one (output 2 smaller), a 6-wide output (even).
        """
        [Network, Input(3, 13, 12), Conv2D(64, 1, Name = "a"), Conv2D(48, 3, Padding = 1, Activation = Activation.Relu, Name = "w")]
        [Conv2D(40, 3, Name = "w2", Activation = Activation.LeakyRelu), Conv2D(2, 1, Name = "out")]
        public partial class WinoMany;
        """,
    };

    /// <summary>Winograd wherever it is possible, with cache blocks of the model's size and of one tile row.</summary>
    private static readonly (string Name, Func<MachineModel, MachineModel> Machine)[] Variants =
    {
        ("Forced", m => m with { WinogradMinSaving = double.NegativeInfinity }),
        ("ForcedOneRowBlocks", m => m with { WinogradMinSaving = double.NegativeInfinity, WinogradBlockFloats = 1 }),
        ("ForcedTwoRowBlocks", m => m with { WinogradMinSaving = double.NegativeInfinity, WinogradBlockFloats = 2 * 6 * 16 * 128 }),
    };

    private sealed record Built(Assembly Assembly, IReadOnlyList<NetworkModel> Models, Dictionary<(int Variant, int Net), NetworkModel> Plans);

    private static readonly Lazy<Built> Compiled = new(Build);

    private static Built Build()
    {
        var models = GeneratorHarness.Models("using CnnGen;\nnamespace Base;\n" + string.Join("\n", Declarations));
        Assert.That(models, Has.Count.EqualTo(Declarations.Length));
        var sources = new List<string>();
        var plans = new Dictionary<(int, int), NetworkModel>();
        for (int v = 0; v < Variants.Length; v++)
        {
            string ns = "W" + v.ToString(System.Globalization.CultureInfo.InvariantCulture);
            for (int n = 0; n < models.Count; n++)
            {
                var net = models[n].Net with { Spec = models[n].Net.Spec with { Namespace = ns } };
                var (common, widthPlans) = Planner.Plan(net, PlanOptions.Inference, MachineModel.Targets.Select(Variants[v].Machine));
                var model = new NetworkModel { Net = net, Common = common, Plans = widthPlans, SpecHash = models[n].SpecHash };
                plans[(v, n)] = model;
                sources.AddRange(Emitter.Emit(model).Select(f => f.Text));
            }

            sources.Add($"using CnnGen;\nnamespace {ns}\n{{\n{string.Join("\n", Declarations)}\n}}\n");
        }

        return new Built(GeneratorHarness.CompileWithoutGenerator(sources), models, plans);
    }

    public static IEnumerable<TestCaseData> Cases() =>
        from v in Enumerable.Range(0, Variants.Length)
        from n in Enumerable.Range(0, Declarations.Length)
        from w in GeneratorHarness.Widths
        select new TestCaseData(v, n, w).SetName($"{Variants[v].Name} network {n} ({w})");

    [TestCaseSource(nameof(Cases))]
    public void Matches_a_double_precision_direct_convolution(int variant, int network, VectorWidth width)
    {
        var built = Compiled.Value;
        var shaped = built.Models[network].Net;
        var model = built.Plans[(variant, network)];
        var plan = model.Plans.Single(p => p.Width * 32 == (int)width);
        var winograd = plan.Steps.Where(s => s.Kernel is WinogradKernel).Select(s => shaped.Layers[s.Layer].Spec.Name).ToList();
        var expectedLayers = shaped.Layers.Where(l => l.Spec.Kind == LayerKind.Conv2D && l.Spec.KernelH == 3).Select(l => l.Spec.Name).ToList();
        Assert.That(winograd, Is.EqualTo(expectedLayers), "every 3x3 convolution is computed with Winograd");
        if (variant == 1)
        {
            Assert.That(plan.Steps.Select(s => s.Kernel).OfType<WinogradKernel>().Select(k => k.BlockRows), Is.All.EqualTo(1));
        }

        var weights = RandomWeights(shaped, network + 1);
        var net = GeneratorHarness.Load(built.Assembly, $"W{variant}.{shaped.Spec.ClassName}", weights, new LoadOptions { VectorWidth = width });
        var rng = new Random(network);
        int batch = 3;
        var input = Enumerable.Range(0, batch * net.InputSize).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var actual = new float[batch * net.OutputSize];
        net.PredictBatch(input, actual, batch);
        var expected = new List<float>();
        for (int i = 0; i < batch; i++)
        {
            expected.AddRange(DoubleForward(shaped, weights, input.AsSpan(i * net.InputSize, net.InputSize).ToArray()));
        }

        ConformanceCase.AssertClose(expected.ToArray(), actual, 1e-4, 1e-4, $"{Variants[variant].Name} {shaped.Spec.ClassName} {width}");
    }

    /// <summary>
    /// U = G g G^T, then A^T [U ⊙ (B^T d B)] A, is the 3x3 correlation of a 4x4 patch d with g (the four outputs of a
    /// tile), in double; and the packed layout puts position e of filter o, channel c at [tile][e][c][lane].
    /// </summary>
    [Test]
    public void The_weight_transform_reproduces_a_direct_convolution()
    {
        var rng = new Random(5);
        int filters = 3, channels = 2, tileFloats = 4;
        var g = Enumerable.Range(0, filters * channels * 9).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var packed = CnnGen.Internal.Packing.Winograd(g, filters, channels, paddedFilters: 4, tileFloats: tileFloats);
        Assert.That(packed, Has.Length.EqualTo(16 * channels * tileFloats));
        double[,] bt = { { 1, 0, -1, 0 }, { 0, 1, 1, 0 }, { 0, -1, 1, 0 }, { 0, 1, 0, -1 } };
        double[,] at = { { 1, 1, 1, 0 }, { 0, 1, -1, -1 } };
        var d = new double[4, 4];
        for (int o = 0; o < filters; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int i = 0; i < 16; i++)
                {
                    d[i / 4, i % 4] = (rng.NextDouble() * 2) - 1;
                }

                // V = B^T d B, then M = U ⊙ V, then Y = A^T M A.
                var v = new double[4, 4];
                for (int i = 0; i < 4; i++)
                {
                    for (int j = 0; j < 4; j++)
                    {
                        for (int a = 0; a < 4; a++)
                        {
                            for (int b = 0; b < 4; b++)
                            {
                                v[i, j] += bt[i, a] * d[a, b] * bt[j, b];
                            }
                        }
                    }
                }

                for (int y = 0; y < 2; y++)
                {
                    for (int x = 0; x < 2; x++)
                    {
                        double winograd = 0, direct = 0;
                        for (int i = 0; i < 4; i++)
                        {
                            for (int j = 0; j < 4; j++)
                            {
                                double u = packed[(((i * 4) + j) * channels * tileFloats) + (c * tileFloats) + o];
                                winograd += at[y, i] * u * v[i, j] * at[x, j];
                            }
                        }

                        for (int kh = 0; kh < 3; kh++)
                        {
                            for (int kw = 0; kw < 3; kw++)
                            {
                                direct += d[y + kh, x + kw] * g[(((o * channels) + c) * 9) + (kh * 3) + kw];
                            }
                        }

                        Assert.That(winograd, Is.EqualTo(direct).Within(1e-6), $"filter {o}, channel {c}, output ({y}, {x})");
                    }
                }
            }
        }

        Assert.That(Enumerable.Range(0, 16 * channels).Select(i => packed[(i * tileFloats) + 3]), Is.All.EqualTo(0f), "the padded filter");
    }

    private const string VggBlock = """
        [Network, Input(64, 56, 56)]
        [Conv2D(64, 3, Padding = 1, Activation = Activation.Relu, Name = "conv1"), Conv2D(64, 3, Padding = 1, Activation = Activation.Relu, Name = "conv2")]
        [MaxPool2D(2, Name = "pool")]
        public partial class VggBlock;
        """;

    private const string CifarResNet8 = """
        [Network, Input(3, 32, 32)]
        [Conv2D(16, 3, Padding = 1, Activation = Activation.Relu, Name = "conv1")]
        [Conv2D(16, 3, Padding = 1, Activation = Activation.Relu, Name = "layer1.conv1"), Conv2D(16, 3, Padding = 1, Name = "layer1.conv2")]
        [Add("layer1.conv2", "conv1", Activation = Activation.Relu, Name = "layer1.out")]
        [Conv2D(32, 3, Stride = 2, Padding = 1, Activation = Activation.Relu, Name = "layer2.conv1"), Conv2D(32, 3, Padding = 1, Name = "layer2.conv2")]
        [Conv2D(32, 1, Stride = 2, Name = "layer2.proj", From = "layer1.out"), Add("layer2.conv2", "layer2.proj", Activation = Activation.Relu, Name = "layer2.out")]
        [Conv2D(64, 3, Stride = 2, Padding = 1, Activation = Activation.Relu, Name = "layer3.conv1"), Conv2D(64, 3, Padding = 1, Name = "layer3.conv2")]
        [Conv2D(64, 1, Stride = 2, Name = "layer3.proj", From = "layer2.out"), Add("layer3.conv2", "layer3.proj", Activation = Activation.Relu, Name = "layer3.out")]
        [GlobalAvgPool2D(Name = "gap"), Flatten(Name = "flatten"), Dense(10, Name = "fc")]
        public partial class CifarResNet8;
        """;

    /// <summary>
    /// Which layers pick Winograd and why (the cost model's cycles, printed): the bench's 3x3 stride-1 layers with 16 or
    /// more channels do at every width; strided, 1x1 and 3-channel first layers stay direct; a 64-channel first layer
    /// has its input packed HWC so that it can. Each transformed tile's positions are an odd number of cache lines apart.
    /// </summary>
    [Test]
    public void The_planner_picks_Winograd_where_its_cost_model_wins()
    {
        var models = GeneratorHarness.Models("using CnnGen;\nnamespace Base;\n" + VggBlock + "\n" + CifarResNet8);
        var expected = new Dictionary<string, string[]>
        {
            ["VggBlock"] = new[] { "conv1", "conv2" },
            ["CifarResNet8"] = new[] { "layer1.conv1", "layer1.conv2", "layer2.conv2", "layer3.conv2" },
        };
        foreach (var model in models)
        {
            var net = model.Net;
            foreach (var plan in model.Plans)
            {
                var picked = new List<string>();
                foreach (var step in plan.Steps.Where(s => s.Kind == StepKind.Conv))
                {
                    var spec = net.Layers[step.Layer].Spec;
                    string why = step.Kernel is WinogradKernel k
                        ? $"Winograd: {k.WinogradCycles:N0} modelled cycles against {k.DirectCycles:N0} direct ({(double)k.WinogradCycles / k.DirectCycles:F2}), GEMM tile {k.TilePixels}x{k.TileVectors}, blocks of {k.BlockRows} tile rows"
                        : spec.KernelH != 3 || spec.StrideH != 1 ? "direct: not a 3x3 stride-1 convolution"
                        : plan.Tensors[step.Inputs[0]].Layout != Layout.Hwc ? "direct: reads the planar network input (3 channels)"
                        : "direct: the cost model";
                    TestContext.Out.WriteLine($"{net.Spec.ClassName} {plan.VectorType} {spec.Name}: {why}");
                    if (step.Kernel is WinogradKernel w)
                    {
                        picked.Add(spec.Name);
                        Assert.That(w.WinogradCycles, Is.LessThanOrEqualTo(w.DirectCycles * (1 - plan.Machine.WinogradMinSaving)), spec.Name);

                        // The 16 positions of a tile land in 16 different L1 sets: an odd number of cache lines apart.
                        int line = plan.Machine.CacheLineFloats;
                        Assert.That(w.PositionPitch % (2 * line), Is.EqualTo(line), $"{spec.Name}: position pitch {w.PositionPitch}");
                        Assert.That(w.PositionPitch, Is.InRange((long)w.BlockRows * w.TileCols * w.X.Cp, ((long)w.BlockRows * w.TileCols * w.X.Cp) + (2 * line)), spec.Name);
                    }
                }

                Assert.That(picked, Is.EqualTo(expected[net.Spec.ClassName]), $"{net.Spec.ClassName} {plan.VectorType}");
            }
        }

        var vgg = models.Single(m => m.Net.Spec.ClassName == "VggBlock");
        Assert.That(vgg.Plans.Select(p => p.Tensors[p.Steps[0].Output].Layout), Is.All.EqualTo(Layout.Hwc), "vgg_block's 64-channel input is packed HWC");
    }

    /// <summary>
    /// <c>[Network(Winograd = false)]</c> plans every convolution directly: the plan (and so the code) is the one with Winograd
    /// off, which computes what the direct kernels always computed, bit for bit. The trainer's forward never uses Winograd.
    /// </summary>
    [Test]
    public void Winograd_false_computes_every_convolution_directly()
    {
        var off = GeneratorHarness.Models("using CnnGen;\nnamespace Base;\n" + VggBlock.Replace("[Network,", "[Network(Winograd = false),"))[0];
        var on = GeneratorHarness.Models("using CnnGen;\nnamespace Base;\n" + VggBlock)[0];
        Assert.That(on.Plans.SelectMany(p => p.Steps).Count(s => s.Kernel is WinogradKernel), Is.EqualTo(6), "on: both convolutions at three widths");
        Assert.That(off.Net.Spec.Winograd, Is.False);
        Assert.That(off.Plans.SelectMany(p => p.Steps).Select(s => s.Kernel), Has.None.InstanceOf<WinogradKernel>());
        Assert.That(string.Concat(Emitter.Emit(off).Select(f => f.Text)), Does.Not.Contain("Winograd"));
        var (_, direct) = Planner.Plan(on.Net with { Spec = on.Net.Spec with { Winograd = true } }, PlanOptions.Inference with { Winograd = false }, MachineModel.Targets);
        Assert.That(off.Plans.Select(p => p with { Net = on.Net }), Is.EqualTo(direct.Select(p => p with { Net = on.Net })), "the same plan as with Winograd off in the planner");
        Assert.That(PlanOptions.Trainer.Winograd, Is.False, "the trainer's forward keeps direct convolutions");
    }

    /// <summary>A double-precision forward pass of the test networks' layers (convolution, batch norm, add, activations), NCHW.</summary>
    private static float[] DoubleForward(ShapedNetwork net, TensorSet weights, float[] input)
    {
        var outputs = new Dictionary<string, double[]>();
        double[] last = Array.Empty<double>();
        for (int li = 0; li < net.Layers.Count; li++)
        {
            var l = net.Layers[li];
            var s = l.Spec;
            double[] x = l.Inputs[0] < 0 ? input.Select(v => (double)v).ToArray() : outputs[net.Layers[l.Inputs[0]].Spec.Name];

            double[] y = new double[l.Out.Size];
            switch (s.Kind)
            {
                case LayerKind.Conv2D:
                    var w = weights.Get(s.Name + ".weight").Data.ToArray();
                    var b = s.Bias ? weights.Get(s.Name + ".bias").Data.ToArray() : new float[s.Units];
                    for (int o = 0; o < l.Out.C; o++)
                    {
                        for (int oh = 0; oh < l.Out.H; oh++)
                        {
                            for (int ow = 0; ow < l.Out.W; ow++)
                            {
                                double sum = b[o];
                                for (int c = 0; c < l.In.C; c++)
                                {
                                    for (int kh = 0; kh < s.KernelH; kh++)
                                    {
                                        for (int kw = 0; kw < s.KernelW; kw++)
                                        {
                                            int ih = oh + kh - s.PadTop, iw = ow + kw - s.PadLeft;
                                            if (ih >= 0 && ih < l.In.H && iw >= 0 && iw < l.In.W)
                                            {
                                                sum += x[(((c * l.In.H) + ih) * l.In.W) + iw] * w[(((((o * l.In.C) + c) * s.KernelH) + kh) * s.KernelW) + kw];
                                            }
                                        }
                                    }
                                }

                                y[(((o * l.Out.H) + oh) * l.Out.W) + ow] = sum;
                            }
                        }
                    }

                    break;
                case LayerKind.BatchNorm2D:
                    var gamma = weights.Get(s.Name + ".weight").Data.ToArray();
                    var beta = weights.Get(s.Name + ".bias").Data.ToArray();
                    var mean = weights.Get(s.Name + ".running_mean").Data.ToArray();
                    var variance = weights.Get(s.Name + ".running_var").Data.ToArray();
                    int plane = l.Out.H * l.Out.W;
                    for (int i = 0; i < y.Length; i++)
                    {
                        int c = i / plane;
                        y[i] = ((x[i] - mean[c]) / Math.Sqrt(variance[c] + s.Eps) * gamma[c]) + beta[c];
                    }

                    break;
                case LayerKind.Add:
                    var other = outputs[net.Layers[l.Inputs[1]].Spec.Name];
                    for (int i = 0; i < y.Length; i++)
                    {
                        y[i] = x[i] + other[i];
                    }

                    break;
                default:
                    throw new NotSupportedException(s.Kind.ToString());
            }

            for (int i = 0; i < y.Length; i++)
            {
                y[i] = s.Activation switch
                {
                    CnnGen.Generator.Model.Activation.Relu => Math.Max(0, y[i]),
                    CnnGen.Generator.Model.Activation.LeakyRelu => y[i] >= 0 ? y[i] : y[i] * s.Alpha,
                    CnnGen.Generator.Model.Activation.None => y[i],
                    _ => throw new NotSupportedException(s.Activation.ToString()),
                };
            }

            outputs[s.Name] = y;
            last = y;
        }

        return outputs[net.Layers[net.OutputLayer].Spec.Name].Select(v => (float)v).ToArray();
    }

    /// <summary>Random weights in PyTorch's names and shapes (convolutions scaled by their fan-in, running variances positive).</summary>
    private static TensorSet RandomWeights(ShapedNetwork net, int seed)
    {
        var rng = new Random(seed);
        float[] Values(int n, float lo, float hi) => Enumerable.Range(0, n).Select(_ => (float)(lo + (rng.NextDouble() * (hi - lo)))).ToArray();
        var tensors = new List<Tensor>();
        foreach (var l in net.Layers)
        {
            var s = l.Spec;
            if (s.Kind == LayerKind.Conv2D)
            {
                int fan = l.In.C * s.KernelH * s.KernelW;
                float scale = 1.5f / MathF.Sqrt(fan);
                tensors.Add(new Tensor(s.Name + ".weight", new[] { s.Units, l.In.C, s.KernelH, s.KernelW }, Values(s.Units * fan, -scale, scale)));
                if (s.Bias)
                {
                    tensors.Add(new Tensor(s.Name + ".bias", new[] { s.Units }, Values(s.Units, -0.2f, 0.2f)));
                }
            }
            else if (s.Kind == LayerKind.BatchNorm2D)
            {
                int c = l.In.C;
                tensors.Add(new Tensor(s.Name + ".weight", new[] { c }, Values(c, 0.5f, 1.5f)));
                tensors.Add(new Tensor(s.Name + ".bias", new[] { c }, Values(c, -0.2f, 0.2f)));
                tensors.Add(new Tensor(s.Name + ".running_mean", new[] { c }, Values(c, -0.2f, 0.2f)));
                tensors.Add(new Tensor(s.Name + ".running_var", new[] { c }, Values(c, 0.5f, 1.5f)));
            }
        }

        return new TensorSet(tensors);
    }
}
