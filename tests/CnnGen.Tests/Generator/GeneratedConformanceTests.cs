using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Generator;

/// <summary>
/// Every conformance case of a layer CnnGen supports, declared as a small network with attributes, generated,
/// compiled and run on every vector width; the output must match PyTorch within 1e-5 (absolute + relative).
/// </summary>
public sealed class GeneratedConformanceTests
{
    /// <summary>Ops CnnGen does not offer as layers (not in the product's scope): the only cases not run here.</summary>
    private static readonly string[] Unsupported = { "elu_alpha1", "hardswish", "hardsigmoid", "gelu_exact", "logsoftmax_dim1_2x10", "logsoftmax_dim1_2x1000_large" };

    private static readonly Lazy<Assembly> Compiled = new(() =>
    {
        var sb = new StringBuilder("using CnnGen;\nnamespace Conformance;\n");
        foreach (var c in ConformanceCase.Cases.Where(c => !Unsupported.Contains(c.Name)))
        {
            sb.Append(Declare(c)).Append('\n');
        }

        foreach (var c in AdaptiveAverageCases)
        {
            sb.Append(Declare(c).Replace("AdaptiveAvgPool2D(1, 1)", "GlobalAvgPool2D").Replace(ClassName(c), ClassName(c) + "Global")).Append('\n');
        }

        return GeneratorHarness.CompileAndLoad(sb.ToString());
    });

    public static IEnumerable<TestCaseData> Cases() =>
        from c in ConformanceCase.Cases
        where !Unsupported.Contains(c.Name)
        from w in GeneratorHarness.Widths
        select new TestCaseData(c, w).SetName($"{c.Name} ({w})");

    [Test]
    public void Every_case_but_the_unsupported_ops_is_run()
    {
        Assert.That(ConformanceCase.Cases, Has.Count.EqualTo(94));
        Assert.That(Cases().Count(), Is.EqualTo((94 - Unsupported.Length) * 3));
    }

    /// <summary>PyTorch's AdaptiveAvgPool2d cases (output size 1) also declared as the equivalent GlobalAvgPool2D.</summary>
    private static IEnumerable<ConformanceCase> AdaptiveAverageCases => ConformanceCase.Cases.Where(c => c.Op == "AdaptiveAvgPool2d");

    public static IEnumerable<TestCaseData> GlobalCases() =>
        from c in AdaptiveAverageCases
        from w in GeneratorHarness.Widths
        select new TestCaseData(c, w).SetName($"{c.Name} as GlobalAvgPool2D ({w})");

    [TestCaseSource(nameof(Cases))]
    public void Matches_PyTorch(ConformanceCase c, VectorWidth width) => Run(c, width, ClassName(c));

    [TestCaseSource(nameof(GlobalCases))]
    public void Global_average_pool_matches_PyTorch(ConformanceCase c, VectorWidth width)
    {
        Assert.That(GlobalCases().Count(), Is.EqualTo(2 * 3), "PyTorch's AdaptiveAvgPool2d(1) cases");
        Run(c, width, ClassName(c) + "Global");
    }

    private static void Run(ConformanceCase c, VectorWidth width, string className)
    {
        var net = GeneratorHarness.Load(Compiled.Value, "Conformance." + className, Weights(c), new LoadOptions { VectorWidth = width });
        var input = Input(c);
        int batch = c.Batch;
        Assert.That(net.InputSize * batch, Is.EqualTo(input.Length), "input size");
        Assert.That(net.OutputSize * batch, Is.EqualTo(c.Output.Length), "output size");
        var actual = new float[c.Output.Length];
        net.PredictBatch(input, actual, batch);
        if (c.ExactExpected)
        {
            Assert.That(actual, Is.EqualTo(c.Output.Data.ToArray()), "exact op must reproduce PyTorch bit for bit");
        }
        else
        {
            ConformanceCase.AssertClose(c.Output.Data, actual, 1e-5, 1e-5, $"{c.Name} {width}");
        }
    }

    internal static string ClassName(ConformanceCase c) => "Case" + c.Index.ToString(CultureInfo.InvariantCulture);

    private static string F(double v) => ((float)v).ToString("R", CultureInfo.InvariantCulture) + "f";

    internal static bool IsMerge(ConformanceCase c) => c.Op is "Add" or "Cat";

    /// <summary>The case's network as attributes, exactly as a user would declare the PyTorch layer.</summary>
    internal static string Declare(ConformanceCase c)
    {
        var s = c.InputShapes[0];
        int ch = s.Length == 4 ? s[1] : s[1], h = s.Length == 4 ? s[2] : 1, w = s.Length == 4 ? s[3] : 1;
        if (IsMerge(c))
        {
            ch += c.InputShapes[1][1];
        }

        var layers = new List<string>();
        switch (c.Op)
        {
            case "Conv2d":
                layers.Add(Conv(c.Attrs, c.Geometry, "layer"));
                break;
            case "Sequential":
            {
                var n0 = c.Nodes[0];
                var n1 = c.Nodes[1];
                switch (n0.Op, n1.Op)
                {
                    case ("ZeroPad2d", "Conv2d"):
                        var pad = ConformanceCase.ReadShape(n0.Attrs.GetProperty("padding")); // left, right, top, bottom
                        var g = n1.Geometry;
                        var merged = g with { PadLeft = g.PadLeft + pad[0], PadRight = g.PadRight + pad[1], PadTop = g.PadTop + pad[2], PadBottom = g.PadBottom + pad[3] };
                        layers.Add(Conv(n1.Attrs, merged, "layer.1", explicitPads: true));
                        break;
                    case ("Conv2d", "BatchNorm2d"):
                        layers.Add(Conv(n0.Attrs, n0.Geometry, "layer.0"));
                        layers.Add($"BatchNorm2D(Eps = {F(n1.Attrs.GetProperty("eps").GetDouble())}, Name = \"layer.1\")");
                        break;
                    case ("Flatten", "Linear"):
                        layers.Add("Flatten");
                        layers.Add($"Dense({ConformanceCase.Int(n1.Attrs, "out_features")}, Bias = {B(n1.Attrs, "bias")}, Name = \"layer.1\")");
                        break;
                    default:
                        throw new InvalidOperationException("unknown sequential " + c.Name);
                }

                break;
            }

            case "MaxPool2d":
            case "AvgPool2d":
            {
                var g = c.Geometry;
                string extra = c.Op == "MaxPool2d"
                    ? $", Dilation = {g.DilationH}"
                    : $", CountIncludePad = {B(c.Attrs, "count_include_pad")}";
                layers.Add($"{c.Op.Replace("2d", "2D")}({g.KernelH}, {g.KernelW}, StrideHeight = {g.StrideH}, StrideWidth = {g.StrideW}, PaddingHeight = {g.PadTop}, PaddingWidth = {g.PadLeft}, CeilMode = {B(c.Attrs, "ceil_mode")}{extra})");
                break;
            }

            case "AdaptiveAvgPool2d":
            {
                var (oh, ow) = ConformanceCase.Pair(c.Attrs, "output_size");
                layers.Add($"AdaptiveAvgPool2D({oh}, {ow})");
                break;
            }

            case "AdaptiveMaxPool2d": layers.Add("GlobalMaxPool2D"); break;
            case "Linear": layers.Add($"Dense({ConformanceCase.Int(c.Attrs, "out_features")}, Bias = {B(c.Attrs, "bias")}, Name = \"layer\")"); break;
            case "ReLU": layers.Add("ReLU"); break;
            case "ReLU6": layers.Add("ReLU6"); break;
            case "LeakyReLU": layers.Add($"LeakyReLU({F(c.Attrs.GetProperty("negative_slope").GetDouble())})"); break;
            case "Sigmoid": layers.Add("Sigmoid"); break;
            case "Tanh": layers.Add("Tanh"); break;
            case "SiLU": layers.Add("SiLU"); break;
            case "Softmax": layers.Add("Softmax"); break;
            case "Dropout": layers.Add($"Dropout({F(c.Attrs.GetProperty("p").GetDouble())})"); break;
            case "BatchNorm2d": layers.Add($"BatchNorm2D(Eps = {F(c.Attrs.GetProperty("eps").GetDouble())}, Name = \"layer\")"); break;
            case "Add":
            case "Cat":
            {
                // The network has one input, so the two operands arrive stacked on channels and two exact 1x1
                // selector convolutions split them again before the merge layer under test.
                int ca = c.InputShapes[0][1], cb = c.InputShapes[1][1];
                layers.Add($"Conv2D({ca}, 1, Bias = false, Name = \"sa\", From = \"input\")");
                layers.Add($"Conv2D({cb}, 1, Bias = false, Name = \"sb\", From = \"input\")");
                layers.Add(c.Op == "Add" ? "Add(\"sa\", \"sb\")" : "Concat(\"sa\", \"sb\")");
                break;
            }

            default:
                throw new InvalidOperationException("no declaration for " + c.Name);
        }

        return $"/// <summary>{c.Name}</summary>\n[Network, Input({ch}, {h}, {w})]\n" + string.Join("\n", layers.Select(l => $"[{l}]")) + $"\npublic partial class {ClassName(c)};\n";
    }

    private static string B(JsonElement attrs, string key) => ConformanceCase.Bool(attrs, key) ? "true" : "false";

    private static string Conv(JsonElement attrs, ConformanceGeometry g, string name, bool explicitPads = false)
    {
        string padding;
        var p = attrs.GetProperty("padding");
        if (!explicitPads && p.ValueKind == JsonValueKind.String)
        {
            padding = p.GetString() == "same" ? "PaddingMode = PaddingMode.Same" : "PaddingMode = PaddingMode.Valid";
        }
        else
        {
            padding = $"PadTop = {g.PadTop}, PadLeft = {g.PadLeft}, PadBottom = {g.PadBottom}, PadRight = {g.PadRight}";
        }

        return $"Conv2D({ConformanceCase.Int(attrs, "out_channels")}, {g.KernelH}, {g.KernelW}, StrideHeight = {g.StrideH}, StrideWidth = {g.StrideW}, "
            + $"DilationHeight = {g.DilationH}, DilationWidth = {g.DilationW}, {padding}, Groups = {ConformanceCase.Int(attrs, "groups")}, Bias = {B(attrs, "bias")}, Name = \"{name}\")";
    }

    /// <summary>The case's parameters (PyTorch names); for merges, the exact selector weights.</summary>
    internal static TensorSet Weights(ConformanceCase c)
    {
        if (!IsMerge(c))
        {
            // The case file also holds its input and expected output; loading is strict, so pass only the parameters.
            return new TensorSet(c.Tensors.Where(t => t.Name.StartsWith("layer", StringComparison.Ordinal)));
        }

        int ca = c.InputShapes[0][1], cb = c.InputShapes[1][1], total = ca + cb;
        var sa = new float[ca * total];
        var sb = new float[cb * total];
        for (int o = 0; o < ca; o++)
        {
            sa[(o * total) + o] = 1f;
        }

        for (int o = 0; o < cb; o++)
        {
            sb[(o * total) + ca + o] = 1f;
        }

        return new TensorSet(new[] { new Tensor("sa.weight", new[] { ca, total, 1, 1 }, sa), new Tensor("sb.weight", new[] { cb, total, 1, 1 }, sb) });
    }

    /// <summary>The batch input; for merges, each item's two operands stacked on channels.</summary>
    internal static float[] Input(ConformanceCase c)
    {
        if (!IsMerge(c))
        {
            return c.Input.Data.ToArray();
        }

        int n = c.Batch, a = c.Input.Length / n, b = c.Input2.Length / n;
        var stacked = new float[c.Input.Length + c.Input2.Length];
        for (int i = 0; i < n; i++)
        {
            c.Input.Data.Slice(i * a, a).CopyTo(stacked.AsSpan(i * (a + b)));
            c.Input2.Data.Slice(i * b, b).CopyTo(stacked.AsSpan((i * (a + b)) + a));
        }

        return stacked;
    }
}
