using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text;
using CnnGen.Generator.Emit;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Shapes;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Generator;

/// <summary>
/// The planner's options (what a training plan will switch off) give working code: every network planned with all
/// fusions off, and with each option off alone, computes what the inference plan computes, on every vector width.
/// </summary>
public sealed class PlanOptionsTests
{
    /// <summary>
    /// Random networks whose inference plans fold batch norms, fuse activations and residual adds, write the output directly,
    /// group batches and vectorize first layers over pixels; two of them have adaptive pools, one a Multiply.
    /// </summary>
    private static readonly int[] RandomSeeds = { 1013, 1025, 1037, 5008, 5009, 5045 };

    /// <summary>A first convolution vectorized over pixels everywhere, with its 2x2 max pool fused at Vector512 (LeNet's conv1 + pool1, smaller).</summary>
    private const string PixelPool = """
        [Network, Input(1, 16, 16), Conv2D(4, 3, Padding = 1, Activation = Activation.Relu), MaxPool2D(2), Flatten, Dense(10)]
        public partial class PixelPool;
        """;

    /// <summary>Two equal convolutions and two equal dense layers: one shared kernel each (ShareKernels).</summary>
    private const string Repeated = """
        [Network, Input(4, 8, 8), Conv2D(4, 3, Padding = 1, Activation = Activation.Relu), Conv2D(4, 3, Padding = 1, Activation = Activation.Relu), Flatten]
        [Dense(16, Activation = Activation.Relu), Dense(16, Activation = Activation.Relu), Dense(16, Activation = Activation.Relu), Dense(3)]
        public partial class Repeated;
        """;

    /// <summary>The fusions the random set does not reach: depthwise rows, the pooled first layer, shared kernels.</summary>
    private static readonly string[] Declared = { SnapshotTests.DepthwiseSeparable, PixelPool, Repeated };

    private static readonly (string Name, PlanOptions Options)[] Variants =
    {
        ("Inference", PlanOptions.Inference),
        ("Unfused", PlanOptions.Unfused),
        ("NoFoldBatchNorm", PlanOptions.Inference with { FoldBatchNorm = false }),
        ("NoFuseActivations", PlanOptions.Inference with { FuseActivations = false }),
        ("NoFuseResidualAdds", PlanOptions.Inference with { FuseResidualAdds = false }),
        ("NoFuseDepthwiseRows", PlanOptions.Inference with { FuseDepthwiseRows = false }),
        ("NoDirectOutput", PlanOptions.Inference with { DirectOutput = false }),
        ("NoPlanarPairs", PlanOptions.Inference with { PlanarPairs = false }),
        ("NoPixelFirstLayer", PlanOptions.Inference with { PixelFirstLayer = false }),
        ("NoFusePixelPool", PlanOptions.Inference with { FusePixelPool = false }),
        ("NoReuseSlots", PlanOptions.Inference with { ReuseSlots = false }),
        ("NoGroupBatches", PlanOptions.Inference with { GroupBatches = false }),
        ("NoShareKernels", PlanOptions.Inference with { ShareKernels = false }),
    };

    /// <param name="Plans">Every network's plan under every variant.</param>
    /// <param name="Compiled">The (variant, network) pairs compiled: those whose plan differs from the inference plan (equal plans give equal code).</param>
    private sealed record Built(Assembly Assembly, IReadOnlyList<NetworkModel> Models, Dictionary<(int Variant, int Net), NetworkModel> Plans, HashSet<(int Variant, int Net)> Compiled, RandomNetwork[] Random);

    private static readonly Lazy<Built> Compiled = new(Build);

    /// <summary>A body of declarations without a namespace line (the snapshot sources start with two lines of usings and namespace).</summary>
    private static string Body(string declaration) => string.Join("\n", declaration.Split('\n').Where(l => !l.StartsWith("using ", StringComparison.Ordinal) && !l.StartsWith("namespace ", StringComparison.Ordinal)));

    private static Built Build()
    {
        var random = RandomSeeds.Select(s => RandomNetwork.Create(s, graphs: s >= 5000)).ToArray();
        string body = string.Join("\n", random.Select(n => n.Declaration).Concat(Declared.Select(Body)));
        var models = GeneratorHarness.Models("using CnnGen;\nnamespace Base;\n" + body);
        Assert.That(models, Has.Count.EqualTo(random.Length + Declared.Length));
        var sources = new List<string>();
        var plans = new Dictionary<(int, int), NetworkModel>();
        var compiled = new HashSet<(int, int)>();
        for (int v = 0; v < Variants.Length; v++)
        {
            string ns = "V" + v.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var declarations = new StringBuilder();
            for (int n = 0; n < models.Count; n++)
            {
                var (common, widthPlans) = Planner.Plan(models[n].Net, Variants[v].Options, MachineModel.Targets);
                plans[(v, n)] = new NetworkModel { Net = models[n].Net, Common = common, Plans = widthPlans, SpecHash = models[n].SpecHash };
                if (v > 0 && SamePlan(plans[(v, n)], plans[(0, n)]))
                {
                    continue;
                }

                compiled.Add((v, n));
                var net = models[n].Net with { Spec = models[n].Net.Spec with { Namespace = ns } };
                var model = new NetworkModel { Net = net, Common = common, Plans = widthPlans.Select(p => p with { Net = net }).ToEquatableArray(), SpecHash = models[n].SpecHash };
                sources.AddRange(Emitter.Emit(model).Select(f => f.Text));
                declarations.Append(n < random.Length ? random[n].Declaration : Body(Declared[n - random.Length])).Append('\n');
            }

            sources.Add($"using CnnGen;\nnamespace {ns}\n{{\n{declarations}\n}}\n");
        }

        return new Built(GeneratorHarness.CompileWithoutGenerator(sources), models, plans, compiled, random);
    }

    /// <summary>Equal plans, apart from the options they were made with.</summary>
    private static bool SamePlan(NetworkModel a, NetworkModel b) =>
        a.Plans.SequenceEqual(b.Plans) && a.Common with { Options = PlanOptions.Inference } == b.Common with { Options = PlanOptions.Inference };

    /// <summary>Random weights in PyTorch's names and shapes for every layer that has weights (running variances positive).</summary>
    internal static TensorSet Weights(ShapedNetwork net, int seed)
    {
        var rng = new Random(seed);
        float[] Values(int n, float lo, float hi) => Enumerable.Range(0, n).Select(_ => (float)(lo + (rng.NextDouble() * (hi - lo)))).ToArray();
        var tensors = new List<Tensor>();
        foreach (var l in net.Layers)
        {
            var s = l.Spec;
            switch (s.Kind)
            {
                case LayerKind.Conv2D:
                    int fan = l.In.C / s.Groups * s.KernelH * s.KernelW;
                    float scale = 1f / MathF.Sqrt(fan);
                    tensors.Add(new Tensor(s.Name + ".weight", new[] { s.Units, l.In.C / s.Groups, s.KernelH, s.KernelW }, Values(s.Units * fan, -scale, scale)));
                    if (s.Bias)
                    {
                        tensors.Add(new Tensor(s.Name + ".bias", new[] { s.Units }, Values(s.Units, -0.1f, 0.1f)));
                    }

                    break;
                case LayerKind.Dense:
                    int k = (int)l.In.Size;
                    float ds = 1f / MathF.Sqrt(k);
                    tensors.Add(new Tensor(s.Name + ".weight", new[] { s.Units, k }, Values(s.Units * k, -ds, ds)));
                    if (s.Bias)
                    {
                        tensors.Add(new Tensor(s.Name + ".bias", new[] { s.Units }, Values(s.Units, -0.1f, 0.1f)));
                    }

                    break;
                case LayerKind.BatchNorm2D:
                    int c = l.In.C;
                    tensors.Add(new Tensor(s.Name + ".weight", new[] { c }, Values(c, 0.5f, 1.5f)));
                    tensors.Add(new Tensor(s.Name + ".bias", new[] { c }, Values(c, -0.2f, 0.2f)));
                    tensors.Add(new Tensor(s.Name + ".running_mean", new[] { c }, Values(c, -0.2f, 0.2f)));
                    tensors.Add(new Tensor(s.Name + ".running_var", new[] { c }, Values(c, 0.5f, 1.5f)));
                    break;
            }
        }

        return new TensorSet(tensors);
    }

    public static IEnumerable<TestCaseData> Cases() =>
        from v in Enumerable.Range(1, Variants.Length - 1)
        from w in GeneratorHarness.Widths
        select new TestCaseData(v, w).SetName($"{Variants[v].Name} ({w})");

    [TestCaseSource(nameof(Cases))]
    public void Computes_what_the_inference_plan_computes(int variant, VectorWidth width)
    {
        var built = Compiled.Value;
        var options = new LoadOptions { VectorWidth = width };
        Assert.That(built.Compiled.Count(c => c.Variant == variant), Is.GreaterThan(0), "no test network's plan changes");
        for (int n = 0; n < built.Models.Count; n++)
        {
            if (!built.Compiled.Contains((variant, n)))
            {
                continue; // the same plan as the inference plan: the same code
            }

            var spec = built.Models[n].Net.Spec;
            var weights = n < built.Random.Length ? built.Random[n].Weights : Weights(built.Models[n].Net, n);
            var reference = GeneratorHarness.Load(built.Assembly, $"V0.{spec.ClassName}", weights, options);
            var model = GeneratorHarness.Load(built.Assembly, $"V{variant}.{spec.ClassName}", weights, options);
            var rng = new Random(n);
            int batch = 9; // more than a batch group, and not a multiple of one
            var input = Enumerable.Range(0, batch * model.InputSize).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
            var expected = new float[batch * model.OutputSize];
            var actual = new float[batch * model.OutputSize];
            reference.PredictBatch(input, expected, batch);
            model.PredictBatch(input, actual, batch);
            ConformanceCase.AssertClose(expected, actual, 1e-4, 1e-4, $"{Variants[variant].Name} {width} {spec.ClassName}");
            if (n < built.Random.Length)
            {
                var single = input.AsSpan(0, model.InputSize).ToArray();
                var output = new float[model.OutputSize];
                model.Predict(single, output);
                ConformanceCase.AssertClose(built.Random[n].Forward(single), output, 1e-4, 1e-4, $"{Variants[variant].Name} {width} {spec.ClassName} vs the scalar reference");
            }
        }
    }

    [Test]
    public void The_unfused_plan_fuses_folds_groups_and_shares_nothing()
    {
        var built = Compiled.Value;
        for (int n = 0; n < built.Models.Count; n++)
        {
            var model = built.Plans[(1, n)];
            Assert.That(model.Common.GroupsBatches, Is.False);
            Assert.That(model.Common.Weights.Select(w => w.FoldedBatchNorm), Is.All.EqualTo(-1));
            foreach (var plan in model.Plans)
            {
                string what = $"{model.Net.Spec.ClassName} {plan.VectorType}";
                Assert.That(plan.BatchGroup, Is.EqualTo(1), what);
                Assert.That(plan.Steps.Where(s => s.FoldedBatchNorm >= 0 || s.FusedAdd >= 0 || s.FusedDepthwise >= 0 || s.RowFused || s.DirectOutput || s.FusedPool >= 0), Is.Empty, what);
                Assert.That(plan.Steps.Where(s => s.Kind == StepKind.ConvPixels), Is.Empty, what);
                // Every layer but views (Flatten, Dropout) has a step of its own.
                var stepped = plan.Steps.Where(s => s.Layer >= 0 && s.Kind != StepKind.CopyOutput).Select(s => s.Layer).ToHashSet();
                var layers = model.Net.Layers.Select((l, i) => (l, i)).Where(x => x.l.Spec.Kind is not LayerKind.Flatten and not LayerKind.Dropout).Select(x => x.i);
                Assert.That(layers, Is.SubsetOf(stepped), what);
                // No two workspace tensors overlap.
                var spans = plan.Locals.Select(t => plan.Tensors[t]).Select(t => (Start: t.Offset, End: t.Offset + t.Floats)).OrderBy(s => s.Start).ToList();
                for (int i = 1; i < spans.Count; i++)
                {
                    Assert.That(spans[i].Start, Is.GreaterThanOrEqualTo(spans[i - 1].End), what);
                }
            }
        }
    }

    [Test]
    public void The_class_shell_only_depends_on_what_every_width_shares()
    {
        // LeNet5's first convolution is pixel-vectorized with a fused pool at Vector512 only; the weighted layers
        // and the shell are the same at every width.
        var lenet = GeneratorHarness.Models(SnapshotTests.LeNet5).Single();
        var conv1 = lenet.Plans.ToDictionary(p => p.Width, p => p.Steps.First(s => s.Layer == 0));
        Assert.That(conv1[16].Kind, Is.EqualTo(StepKind.ConvPixels));
        Assert.That(conv1[16].FusedPool, Is.EqualTo(1));
        Assert.That(conv1[8].Kind, Is.EqualTo(StepKind.Conv));
        Assert.That(lenet.Plans.Select(p => p.Steps.Count).Distinct().Count(), Is.GreaterThan(1), "the step lists differ per width");
        foreach (var plan in lenet.Plans)
        {
            Assert.That(plan.Packs.Select(p => p.Weights), Is.EqualTo(lenet.Common.Weights), plan.VectorType);
        }
    }
}
