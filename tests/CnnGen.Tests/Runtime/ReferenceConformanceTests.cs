using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using CnnGen;

namespace CnnGen.Tests.Runtime;

/// <summary>Runs every conformance case whose op the scalar <see cref="Reference"/> implements and compares with PyTorch.</summary>
[TestFixture]
public sealed class ReferenceConformanceTests
{
    /// <summary>Cases the reference deliberately does not implement (ops the generator does not support).</summary>
    private static readonly string[] KnownUnsupported = { "elu_alpha1", "hardswish", "hardsigmoid", "gelu_exact" };

    private static readonly HashSet<string> SupportedOps = new(StringComparer.Ordinal)
    {
        "Conv2d", "ZeroPad2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Flatten", "Linear",
        "ReLU", "ReLU6", "LeakyReLU", "Sigmoid", "Tanh", "SiLU", "Softmax", "LogSoftmax", "BatchNorm2d", "Add", "Cat", "Dropout",
    };

    public static IEnumerable<TestCaseData> SupportedCases() => ConformanceCase.Where(IsSupported);

    [TestCaseSource(nameof(SupportedCases))]
    public void MatchesPyTorch(ConformanceCase c)
    {
        float[] actual = Run(c, out int[] shape);
        Assert.That(shape, Is.EqualTo(c.OutputShape), "output shape");
        Assert.That(c.Output.Shape.ToArray(), Is.EqualTo(c.OutputShape), "stored output shape");
        c.AssertClose(actual);
    }

    [Test]
    public void UnsupportedCasesAreExactlyTheKnownList()
    {
        string[] unsupported = ConformanceCase.Cases.Where(c => !IsSupported(c)).Select(c => c.Name).ToArray();
        Assert.That(unsupported, Is.EquivalentTo(KnownUnsupported));
        Assert.That(ConformanceCase.Cases, Has.Count.EqualTo(94));
        Assert.That(SupportedCases().Count(), Is.EqualTo(94 - KnownUnsupported.Length));
    }

    /// <summary>The output-size helpers agree with every conv/pool case's PyTorch-verified geometry.</summary>
    [TestCaseSource(typeof(ConformanceCase), nameof(ConformanceCase.ByOp), new object[] { new[] { "Conv2d", "MaxPool2d", "AvgPool2d", "Sequential" } })]
    public void OutputSizeMatchesDerived(ConformanceCase c)
    {
        var checkedAny = false;
        IEnumerable<(string Op, JsonElement Attrs, JsonElement Derived, int[] InShape)> layers = c.Op == "Sequential"
            ? c.Nodes.Select(n => (n.Op, n.Attrs, n.Derived, n.InputShape))
            : new[] { (c.Op, c.Attrs, c.Derived, c.InputShapes[0]) };
        foreach ((string op, JsonElement attrs, JsonElement derived, int[] inShape) in layers)
        {
            if (op is not ("Conv2d" or "MaxPool2d" or "AvgPool2d"))
            {
                continue;
            }

            ConformanceGeometry g = ConformanceGeometry.From(derived, op);
            (int h, int w) = op == "Conv2d"
                ? Reference.ConvOutputSize(inShape[2], inShape[3], g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadTop, g.PadLeft, g.PadBottom, g.PadRight, g.DilationH, g.DilationW)
                : Reference.PoolOutputSize(inShape[2], inShape[3], g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadTop, g.PadLeft, g.DilationH, g.DilationW, ConformanceCase.Bool(attrs, "ceil_mode"));
            Assert.That((h, w), Is.EqualTo((g.OutH, g.OutW)), op);
            checkedAny = true;
        }

        if (!checkedAny)
        {
            Assert.That(c.Nodes.Select(n => n.Op), Does.Not.Contain("Conv2d"), "a Sequential case without conv must not have been skipped");
        }
    }

    internal static bool IsSupported(ConformanceCase c) =>
        c.Op == "Sequential" ? c.Nodes.All(n => SupportedOps.Contains(n.Op)) : SupportedOps.Contains(c.Op);

    /// <summary>Runs a case through <see cref="Reference"/>, one batch item at a time.</summary>
    internal static float[] Run(ConformanceCase c, out int[] outputShape)
    {
        int batch = c.Batch;
        float[] input = c.Input.Data.ToArray();
        float[]? input2 = c.InputNames.Count > 1 ? c.Input2.Data.ToArray() : null;
        int[] itemShape = c.InputShapes[0][1..];
        int itemSize = ConformanceCase.Elements(itemShape);
        int item2Size = input2 is null ? 0 : ConformanceCase.Elements(c.InputShapes[1][1..]);
        var outputs = new List<float[]>();
        int[] itemOutShape = Array.Empty<int>();
        for (int n = 0; n < batch; n++)
        {
            float[] x = input.AsSpan(n * itemSize, itemSize).ToArray();
            float[]? x2 = input2?.AsSpan(n * item2Size, item2Size).ToArray();
            int[] shape = itemShape;
            if (c.Op == "Sequential")
            {
                var pending = new Pads(0, 0, 0, 0);
                foreach (ConformanceNode node in c.Nodes)
                {
                    x = RunNode(node.Op, node.Attrs, node.Derived, c.Tensors.WithPrefix(node.ParamPrefix), x, null, ref shape, ref pending);
                    if (node.Op != "ZeroPad2d")
                    {
                        // A ZeroPad2d is folded into the next conv's padding, so only its consumer's shape is checked.
                        Assert.That(shape, Is.EqualTo(node.OutputShape[1..]), $"{node.Op} output shape");
                    }
                }

                Assert.That(pending, Is.EqualTo(new Pads(0, 0, 0, 0)), "a ZeroPad2d must be consumed by a following conv");
            }
            else
            {
                var pending = new Pads(0, 0, 0, 0);
                x = RunNode(c.Op, c.Attrs, c.Derived, c.Layer, x, x2, ref shape, ref pending);
            }

            outputs.Add(x);
            itemOutShape = shape;
        }

        outputShape = new[] { batch }.Concat(itemOutShape).ToArray();
        return outputs.SelectMany(o => o).ToArray();
    }

    private readonly record struct Pads(int Top, int Left, int Bottom, int Right);

    private static float[] RunNode(string op, JsonElement attrs, JsonElement derived, TensorSet p, float[] x, float[]? x2, ref int[] shape, ref Pads pending)
    {
        float[] y;
        switch (op)
        {
            case "ZeroPad2d":
            {
                // F.pad order is (left, right, top, bottom); 'derived' spells it out. Folded into the next conv's padding.
                pending = new Pads(
                    pending.Top + derived.GetProperty("pad_top").GetInt32(),
                    pending.Left + derived.GetProperty("pad_left").GetInt32(),
                    pending.Bottom + derived.GetProperty("pad_bottom").GetInt32(),
                    pending.Right + derived.GetProperty("pad_right").GetInt32());
                JsonElement pad = attrs.GetProperty("padding");
                Assert.That(
                    (pad[0].GetInt32(), pad[1].GetInt32(), pad[2].GetInt32(), pad[3].GetInt32()),
                    Is.EqualTo((derived.GetProperty("pad_left").GetInt32(), derived.GetProperty("pad_right").GetInt32(), derived.GetProperty("pad_top").GetInt32(), derived.GetProperty("pad_bottom").GetInt32())),
                    "ZeroPad2d padding is (left, right, top, bottom)");
                return x; // shape unchanged here; the conv sees the padded geometry
            }

            case "Conv2d":
            {
                ConformanceGeometry g = ConformanceGeometry.From(derived, op);
                int filters = ConformanceCase.Int(attrs, "out_channels");
                int groups = ConformanceCase.Int(attrs, "groups");
                Assert.That(ConformanceCase.Int(attrs, "in_channels"), Is.EqualTo(shape[0]), "in_channels");
                Assert.That(attrs.GetProperty("padding_mode").GetString(), Is.EqualTo("zeros"));
                bool hasBias = p.TryGet("bias", out Tensor? bias);
                Assert.That(hasBias, Is.EqualTo(ConformanceCase.Bool(attrs, "bias")), "bias tensor present iff bias=True");
                Tensor weight = p.Get("weight");
                (int top, int left, int bottom, int right) = (g.PadTop + pending.Top, g.PadLeft + pending.Left, g.PadBottom + pending.Bottom, g.PadRight + pending.Right);
                pending = new Pads(0, 0, 0, 0);
                (int oh, int ow) = Reference.ConvOutputSize(shape[1], shape[2], g.KernelH, g.KernelW, g.StrideH, g.StrideW, top, left, bottom, right, g.DilationH, g.DilationW);
                y = new float[filters * oh * ow];
                Reference.Conv2D(x, shape[0], shape[1], shape[2], weight.Data, hasBias ? bias!.Data : ReadOnlySpan<float>.Empty, filters, g.KernelH, g.KernelW, g.StrideH, g.StrideW, top, left, bottom, right, g.DilationH, g.DilationW, groups, y);
                shape = new[] { filters, oh, ow };
                return y;
            }

            case "MaxPool2d":
            {
                ConformanceGeometry g = ConformanceGeometry.From(derived, op);
                bool ceil = ConformanceCase.Bool(attrs, "ceil_mode");
                Assert.That(g.PadBottom == g.PadTop && g.PadRight == g.PadLeft, "pool padding is symmetric");
                (int oh, int ow) = Reference.PoolOutputSize(shape[1], shape[2], g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadTop, g.PadLeft, g.DilationH, g.DilationW, ceil);
                y = new float[shape[0] * oh * ow];
                Reference.MaxPool2D(x, shape[0], shape[1], shape[2], g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadTop, g.PadLeft, g.DilationH, g.DilationW, ceil, y);
                shape = new[] { shape[0], oh, ow };
                return y;
            }

            case "AvgPool2d":
            {
                ConformanceGeometry g = ConformanceGeometry.From(derived, op);
                bool ceil = ConformanceCase.Bool(attrs, "ceil_mode");
                bool include = ConformanceCase.Bool(attrs, "count_include_pad");
                Assert.That(ConformanceCase.Has(attrs, "divisor_override"), Is.False, "divisor_override is not supported");
                Assert.That((g.DilationH, g.DilationW), Is.EqualTo((1, 1)));
                (int oh, int ow) = Reference.PoolOutputSize(shape[1], shape[2], g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadTop, g.PadLeft, 1, 1, ceil);
                y = new float[shape[0] * oh * ow];
                Reference.AvgPool2D(x, shape[0], shape[1], shape[2], g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadTop, g.PadLeft, ceil, include, y);
                shape = new[] { shape[0], oh, ow };
                return y;
            }

            case "AdaptiveAvgPool2d":
            case "AdaptiveMaxPool2d":
            {
                Assert.That(ConformanceCase.Pair(attrs, "output_size"), Is.EqualTo((1, 1)), "only output_size 1 (global pooling) is supported");
                y = new float[shape[0]];
                if (op == "AdaptiveAvgPool2d")
                {
                    Reference.GlobalAvgPool2D(x, shape[0], shape[1], shape[2], y);
                }
                else
                {
                    Reference.GlobalMaxPool2D(x, shape[0], shape[1], shape[2], y);
                }

                shape = new[] { shape[0], 1, 1 };
                return y;
            }

            case "Flatten":
                Assert.That(ConformanceCase.Int(attrs, "start_dim"), Is.EqualTo(1));
                shape = new[] { ConformanceCase.Elements(shape) }; // NCHW memory is already C,H,W order
                return x;

            case "Linear":
            {
                int inFeatures = ConformanceCase.Int(attrs, "in_features");
                int units = ConformanceCase.Int(attrs, "out_features");
                Assert.That(shape, Is.EqualTo(new[] { inFeatures }), "Linear input shape");
                bool hasBias = p.TryGet("bias", out Tensor? bias);
                Assert.That(hasBias, Is.EqualTo(ConformanceCase.Bool(attrs, "bias")), "bias tensor present iff bias=True");
                y = new float[units];
                Reference.Dense(x, inFeatures, p.Get("weight").Data, hasBias ? bias!.Data : ReadOnlySpan<float>.Empty, units, y);
                shape = new[] { units };
                return y;
            }

            case "ReLU":
            case "ReLU6":
            case "LeakyReLU":
            case "Sigmoid":
            case "Tanh":
            case "SiLU":
            {
                Activation activation = op switch
                {
                    "ReLU" => Activation.Relu,
                    "ReLU6" => Activation.Relu6,
                    "LeakyReLU" => Activation.LeakyRelu,
                    "Sigmoid" => Activation.Sigmoid,
                    "Tanh" => Activation.Tanh,
                    _ => Activation.SiLU,
                };
                float alpha = op == "LeakyReLU" ? ConformanceCase.Float(attrs, "negative_slope") : 0.01f;
                y = new float[x.Length];
                Reference.Activate(x, y, activation, alpha);
                return y;
            }

            case "Softmax":
            case "LogSoftmax":
            {
                Assert.That(ConformanceCase.Int(attrs, "dim"), Is.EqualTo(1), "softmax over the channel axis");
                int spatial = ConformanceCase.Elements(shape[1..]);
                y = new float[x.Length];
                if (op == "Softmax")
                {
                    Reference.Softmax(x, shape[0], spatial, y);
                }
                else
                {
                    Reference.LogSoftmax(x, shape[0], spatial, y);
                }

                return y;
            }

            case "BatchNorm2d":
            {
                Assert.That(ConformanceCase.Int(attrs, "num_features"), Is.EqualTo(shape[0]));
                y = new float[x.Length];
                Reference.BatchNorm2D(x, shape[0], shape[1], shape[2], p.Get("weight").Data, p.Get("bias").Data, p.Get("running_mean").Data, p.Get("running_var").Data, ConformanceCase.Float(attrs, "eps"), y);
                return y;
            }

            case "Add":
                y = new float[x.Length];
                Reference.Add(x, x2!, y);
                return y;

            case "Cat":
            {
                Assert.That(ConformanceCase.Int(attrs, "dim"), Is.EqualTo(1));
                int c2 = x2!.Length / (shape[1] * shape[2]);
                y = new float[x.Length + x2.Length];
                Reference.Concat(x, shape[0], x2, c2, shape[1], shape[2], y);
                shape = new[] { shape[0] + c2, shape[1], shape[2] };
                return y;
            }

            case "Dropout":
                return x; // eval mode: identity, no 1/(1-p) scaling

            default:
                throw new InvalidOperationException($"op {op} is not supported by the reference");
        }
    }
}
