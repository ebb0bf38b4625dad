using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Reflection;
using CnnGen.Generator.Emit;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Tests.Generator;

/// <summary>
/// Per-layer timing of one 3x3 convolution's kernel, direct against Winograd, the two interleaved (what calibrates
/// <see cref="MachineModel.WinogradGemmFactor"/>). Explicit: run pinned and under the bench lock, e.g.
/// <c>flock /work/bench.lock taskset -c 1 dotnet test tests/CnnGen.Tests -c Release --filter "Name~Time_direct_against_Winograd"</c>
/// (with <c>DOTNET_EnableAVX512=0</c> for the Vector256 kernels as an AVX2 machine runs them).
/// </summary>
[Explicit("timing: run pinned, under the bench lock")]
public sealed class WinogradTimingTests
{
    private delegate void Direct(ref float x, ref float y, float[] weight, float[] bias);

    private delegate void Winograd(ref float x, ref float s, ref float y, float[] weight, float[] bias);

    /// <summary>(input channels, filters, height = width): the 3x3 stride-1 layers of vgg_block, cifar_resnet8, ResNet-18 and VGG-16.</summary>
    private static readonly (int C, int K, int Size, string Where)[] Layers =
    {
        (64, 64, 56, "vgg_block conv1/2, resnet18 layer1"),
        (16, 16, 32, "cifar_resnet8 layer1"),
        (32, 32, 16, "cifar_resnet8 layer2.conv2"),
        (64, 64, 8, "cifar_resnet8 layer3.conv2"),
        (128, 128, 28, "resnet18 layer2"),
        (256, 256, 14, "resnet18 layer3"),
        (512, 512, 7, "resnet18 layer4"),
        (64, 64, 224, "vgg16 features.2"),
        (128, 128, 112, "vgg16 features.7"),
        (256, 256, 56, "vgg16 features.12"),
        (512, 512, 28, "vgg16 features.19"),
        (512, 512, 14, "vgg16 features.26"),
    };

    [Test]
    public void Time_direct_against_Winograd()
    {
        var width = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 16 : 8;
        string decls = string.Join("\n", Layers.Select((l, i) =>
            $"[Network, Input({l.C}, {l.Size}, {l.Size}), Conv2D({l.C}, 1, Name = \"a\"), Conv2D({l.K}, 3, Padding = 1, Activation = Activation.Relu, Name = \"w\"), Conv2D(4, 1, Name = \"out\")] public partial class L{i};"));
        var models = GeneratorHarness.Models("using CnnGen;\nnamespace Base;\n" + decls);
        var sources = new List<string>();
        var plans = new List<(NetworkPlan Direct, NetworkPlan Winograd)>();
        foreach (var (ns, force) in new[] { ("D", false), ("G", true) })
        {
            for (int n = 0; n < models.Count; n++)
            {
                var net = models[n].Net with { Spec = models[n].Net.Spec with { Namespace = ns } };
                int block = int.TryParse(Environment.GetEnvironmentVariable("WINOGRAD_BLOCK_FLOATS"), out int b) ? b : 0;
                var targets = MachineModel.Targets.Select(m => force ? m with { WinogradMinSaving = double.NegativeInfinity, WinogradBlockFloats = block > 0 ? block : m.WinogradBlockFloats } : m);
                var options = force ? PlanOptions.Inference : PlanOptions.Inference with { Winograd = false };
                var (common, widthPlans) = Planner.Plan(net, options, targets);
                sources.AddRange(Emitter.Emit(new NetworkModel { Net = net, Common = common, Plans = widthPlans, SpecHash = models[n].SpecHash }).Select(f => f.Text));
                var plan = widthPlans.Single(p => p.Width == width);
                if (force)
                {
                    plans[n] = (plans[n].Direct, plan);
                }
                else
                {
                    plans.Add((plan, plan));
                }
            }

            sources.Add($"using CnnGen;\nnamespace {ns}\n{{\n{decls}\n}}\n");
        }

        var assembly = GeneratorHarness.CompileWithoutGenerator(sources);
        var rng = new Random(1);
        TestContext.Out.WriteLine($"Vector{width * 32}, one thread; per layer: median of 7 interleaved rounds (ms per image), model's cycles; GFLOP/s of the direct definition.");
        TestContext.Out.WriteLine("| layer | C -> K, size | direct ms | Winograd ms | Winograd / direct (measured) | model ratio | model chooses |");
        TestContext.Out.WriteLine("|---|---|---|---|---|---|---|");
        var only = Environment.GetEnvironmentVariable("WINOGRAD_LAYERS")?.Split(',').Select(int.Parse).ToHashSet();
        for (int n = 0; n < Layers.Length; n++)
        {
            if (only is not null && !only.Contains(n))
            {
                continue;
            }

            var l = Layers[n];
            var (dPlan, gPlan) = plans[n];
            var dStep = dPlan.Steps.Single(s => s.Title.StartsWith("w:", StringComparison.Ordinal));
            var gStep = gPlan.Steps.Single(s => s.Title.StartsWith("w:", StringComparison.Ordinal));
            var gKernel = (WinogradKernel)gStep.Kernel;
            var weights = RandomWeights(l.C, l.K, rng);
            var dNet = GeneratorHarness.Load(assembly, $"D.L{n}", weights, new LoadOptions { VectorWidth = (VectorWidth)(width * 32) });
            var gNet = GeneratorHarness.Load(assembly, $"G.L{n}", weights, new LoadOptions { VectorWidth = (VectorWidth)(width * 32) });
            var direct = Kernel<Direct>(assembly, $"D.L{n}", width, dStep.Method);
            var winograd = Kernel<Winograd>(assembly, $"G.L{n}", width, gStep.Method);
            var (dw, db) = Fields(dNet);
            var (gw, gb) = Fields(gNet);
            var x = new float[dPlan.Tensors[dStep.Inputs[0]].Floats];
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = (float)((rng.NextDouble() * 2) - 1);
            }

            var y = new float[dPlan.Tensors[dStep.Output].Floats];
            var s = new float[gPlan.Tensors[gStep.Inputs[^1]].Floats];
            double flops = 2.0 * l.C * l.K * 9 * l.Size * l.Size;
            int reps = Math.Max(1, (int)(2e8 / flops));
            var dt = new List<double>();
            var gt = new List<double>();
            for (int round = 0; round < 7; round++)
            {
                var sw = Stopwatch.StartNew();
                for (int r = 0; r < reps; r++)
                {
                    direct(ref x[0], ref y[0], dw, db);
                }

                dt.Add(sw.Elapsed.TotalMilliseconds / reps);
                sw.Restart();
                for (int r = 0; r < reps; r++)
                {
                    winograd(ref x[0], ref s[0], ref y[0], gw, gb);
                }

                gt.Add(sw.Elapsed.TotalMilliseconds / reps);
            }

            double d = Median(dt), g = Median(gt);
            var est = (gKernel.WinogradCycles, gKernel.DirectCycles);
            bool chosen = Choose(models[n], width);
            TestContext.Out.WriteLine(string.Format(CultureInfo.InvariantCulture, "| {0} | {1} -> {2}, {3}x{3} | {4:F3} ({5:F0} GFLOP/s) | {6:F3} | {7:F2} | {8:F2} | {9} | tile {10}x{11}, blocks of {12} |",
                l.Where, l.C, l.K, l.Size, d, flops / d / 1e6, g, g / d, (double)est.WinogradCycles / est.DirectCycles, chosen ? "Winograd" : "direct", gKernel.TilePixels, gKernel.TileVectors, gKernel.BlockRows));
        }
    }

    /// <summary>Whether the planner (unforced) picks Winograd for the layer at this width.</summary>
    private static bool Choose(NetworkModel model, int width)
    {
        var (_, plans) = Planner.Plan(model.Net, PlanOptions.Inference, MachineModel.Targets);
        return plans.Single(p => p.Width == width).Steps.Any(s => s.Kernel is WinogradKernel);
    }

    private static T Kernel<T>(Assembly assembly, string type, int width, string method)
        where T : Delegate
    {
        var kernels = assembly.GetType(type + "+Kernels" + (width * 32).ToString(CultureInfo.InvariantCulture), throwOnError: true)!;
        return (T)kernels.GetMethod(method, BindingFlags.NonPublic | BindingFlags.Static)!.CreateDelegate(typeof(T));
    }

    private static (float[] Weight, float[] Bias) Fields(INetwork net)
    {
        var t = net.GetType();
        float[] F(string name) => (float[])t.GetField(name, BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(net)!;
        return (F("_wWeight"), F("_wBias"));
    }

    private static double Median(List<double> v) => v.OrderBy(a => a).ElementAt(v.Count / 2);

    private static TensorSet RandomWeights(int c, int k, Random rng)
    {
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 0.2) - 0.1)).ToArray();
        return new TensorSet(new[]
        {
            new Tensor("a.weight", new[] { c, c, 1, 1 }, Values(c * c)), new Tensor("a.bias", new[] { c }, Values(c)),
            new Tensor("w.weight", new[] { k, c, 3, 3 }, Values(k * c * 9)), new Tensor("w.bias", new[] { k }, Values(k)),
            new Tensor("out.weight", new[] { 4, k, 1, 1 }, Values(4 * k)), new Tensor("out.bias", new[] { 4 }, Values(4)),
        });
    }
}
