using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Backward;

/// <summary>
/// Runs every PyTorch backward conformance case (tests/fixtures/conformance/grad) through the float reference backward, by way
/// of the test executor's layers: input and parameter gradients within 1e-4 absolute + 1e-4 relative; the batch-norm cases in
/// training mode, where the output and the updated running statistics are checked too.
/// </summary>
[TestFixture]
public sealed class ReferenceBackwardConformanceTests
{
    private const double Tolerance = 1e-4;

    /// <summary>Cases skipped on purpose: their ops are not layers the product supports (no forward reference either).</summary>
    private static readonly string[] UnsupportedOps = { "ELU", "Hardswish", "Hardsigmoid", "GELU" };

    public static IEnumerable<TestCaseData> SupportedCases() =>
        GradCase.Cases.Where(IsSupported).Select(c => new TestCaseData(c).SetArgDisplayNames(c.Name));

    [TestCaseSource(nameof(SupportedCases))]
    public void GradientsMatchPyTorch(GradCase c)
    {
        ConformanceCase forward = c.Forward;
        TensorSet t = c.Tensors;
        int batch = forward.Batch;
        IReadOnlyList<Layer<float>> layers = BuildLayers(forward);
        foreach (Layer<float> layer in layers)
        {
            foreach (Parameter<float> p in layer.Parameters)
            {
                t.Get(p.Name).Data.CopyTo(p.Value);
            }

            foreach ((string name, float[] value) in layer.Buffers)
            {
                t.Get(name).Data.CopyTo(value);
            }
        }

        Assert.That(layers.SelectMany(l => l.Parameters).Select(p => p.Name), Is.EquivalentTo(c.ParamGrads.Keys), "trained tensors");

        // Forward, layer by layer (the first layer of Add/Cat takes both inputs).
        float[][] inputs = forward.InputNames.Select(n => t.Get(n).Data.ToArray()).ToArray();
        var layerInputs = new List<float[][]>();
        float[][] current = inputs;
        foreach (Layer<float> layer in layers)
        {
            layerInputs.Add(current);
            current = new[] { layer.Forward(current, batch, c.Training) };
        }

        float[] output = current[0];
        Assert.That(output, Has.Length.EqualTo(ConformanceCase.Elements(forward.OutputShape)), "output length");
        if (c.Training)
        {
            ConformanceCase.AssertClose(t.Get("output_train").Data, output, Tolerance, Tolerance, $"{c.Name} output_train");
            foreach ((string name, float[] value) in layers.SelectMany(l => l.Buffers))
            {
                ConformanceCase.AssertClose(t.Get("running." + name).Data, value, Tolerance, Tolerance, $"{c.Name} updated {name}");
            }
        }
        else
        {
            forward.AssertClose(output, $"{c.Name} output");
        }

        // Backward in reverse order.
        float[][] grads = { t.Get("grad_output").Data.ToArray() };
        for (int i = layers.Count - 1; i >= 0; i--)
        {
            grads = layers[i].Backward(grads[0], batch);
        }

        for (int k = 0; k < inputs.Length; k++)
        {
            string name = k == 0 ? "grad_input" : "grad_input2";
            ConformanceCase.AssertClose(t.Get(name).Data, grads[k], Tolerance, Tolerance, $"{c.Name} {name}");
        }

        foreach (Parameter<float> p in layers.SelectMany(l => l.Parameters))
        {
            Assert.That(c.ParamGrads[p.Name], Is.EqualTo(p.Shape), p.Name);
            ConformanceCase.AssertClose(t.Get("grad." + p.Name).Data, p.Grad, Tolerance, Tolerance, $"{c.Name} grad.{p.Name}");
        }
    }

    [Test]
    public void EveryCaseRunsExceptTheDocumentedUnsupportedOps()
    {
        Assert.That(GradCase.Cases, Has.Count.EqualTo(93));
        string[] skipped = GradCase.Cases.Where(c => !IsSupported(c)).Select(c => c.Forward.Op).ToArray();
        Assert.That(skipped, Is.EquivalentTo(UnsupportedOps), "one case per unsupported op, nothing else skipped");
        Assert.That(SupportedCases().Count(), Is.EqualTo(89));
        Assert.That(GradCase.Cases.Count(c => c.Training), Is.EqualTo(4), "the batch-norm cases run in training mode");
    }

    private static bool IsSupported(GradCase c) => !UnsupportedOps.Contains(c.Forward.Op);

    /// <summary>The case as a chain of layers; a ZeroPad2d is folded into the following convolution's padding.</summary>
    private static IReadOnlyList<Layer<float>> BuildLayers(ConformanceCase c)
    {
        var layers = new List<Layer<float>>();
        Shape[] shapes = c.InputShapes.Select(s => ToShape(s[1..])).ToArray();
        IEnumerable<(string Op, JsonElement Attrs, JsonElement Derived, string Name)> nodes = c.Op == "Sequential"
            ? c.Nodes.Select(n => (n.Op, n.Attrs, n.Derived, n.ParamPrefix.TrimEnd('.')))
            : new[] { (c.Op, c.Attrs, c.Derived, "layer") };
        (int Top, int Left, int Bottom, int Right) pending = (0, 0, 0, 0);
        foreach ((string op, JsonElement attrs, JsonElement derived, string name) in nodes)
        {
            Shape x = shapes[0];
            if (op == "ZeroPad2d")
            {
                pending = (derived.GetProperty("pad_top").GetInt32(), derived.GetProperty("pad_left").GetInt32(), derived.GetProperty("pad_bottom").GetInt32(), derived.GetProperty("pad_right").GetInt32());
                continue;
            }

            Layer<float> layer = op switch
            {
                "Conv2d" => Conv(name, x, attrs, ConformanceGeometry.From(derived, op), pending),
                "MaxPool2d" => Pool(name, x, attrs, ConformanceGeometry.From(derived, op), max: true),
                "AvgPool2d" => Pool(name, x, attrs, ConformanceGeometry.From(derived, op), max: false),
                "AdaptiveAvgPool2d" => new AdaptiveAvgPool2DLayer<float>(name, x, ConformanceCase.Pair(attrs, "output_size").H, ConformanceCase.Pair(attrs, "output_size").W),
                "AdaptiveMaxPool2d" => ConformanceCase.Pair(attrs, "output_size") == (1, 1)
                    ? new GlobalPool2DLayer<float>(name, x, max: true)
                    : throw new InvalidOperationException("only global adaptive max pooling is supported"),
                "Flatten" => new FlattenLayer<float>(name, x),
                "Linear" => new DenseLayer<float>(name, x, ConformanceCase.Int(attrs, "out_features"), ConformanceCase.Bool(attrs, "bias")),
                "ReLU" => new ActivationLayer<float>(name, x, Activation.Relu, 0),
                "ReLU6" => new ActivationLayer<float>(name, x, Activation.Relu6, 0),
                "LeakyReLU" => new ActivationLayer<float>(name, x, Activation.LeakyRelu, attrs.GetProperty("negative_slope").GetDouble()),
                "Sigmoid" => new ActivationLayer<float>(name, x, Activation.Sigmoid, 0),
                "Tanh" => new ActivationLayer<float>(name, x, Activation.Tanh, 0),
                "SiLU" => new ActivationLayer<float>(name, x, Activation.SiLU, 0),
                "Softmax" => new SoftmaxLayer<float>(name, x),
                "LogSoftmax" => new LogSoftmaxLayer<float>(name, x),
                "BatchNorm2d" => new BatchNorm2DLayer<float>(name, x, attrs.GetProperty("eps").GetDouble(), attrs.GetProperty("momentum").GetDouble()),
                "Add" => new AddLayer<float>(name, shapes[0], shapes[1]),
                "Cat" => new ConcatLayer<float>(name, shapes[0], shapes[1]),
                _ => throw new InvalidOperationException($"op {op} has no reference backward"),
            };
            if (op is "Softmax" or "LogSoftmax" or "Cat")
            {
                Assert.That(ConformanceCase.Int(attrs, "dim"), Is.EqualTo(1), "over the channel axis");
            }

            pending = (0, 0, 0, 0);
            layers.Add(layer);
            shapes = new[] { layer.Output };
        }

        Assert.That(shapes[0], Is.EqualTo(ToShape(c.OutputShape[1..])), "output shape");
        return layers;
    }

    private static Conv2DLayer<float> Conv(string name, Shape x, JsonElement attrs, ConformanceGeometry g, (int Top, int Left, int Bottom, int Right) pad)
    {
        Assert.That(attrs.GetProperty("padding_mode").GetString(), Is.EqualTo("zeros"));
        return new Conv2DLayer<float>(
            name, x, ConformanceCase.Int(attrs, "out_channels"), (g.KernelH, g.KernelW), (g.StrideH, g.StrideW),
            (g.PadTop + pad.Top, g.PadLeft + pad.Left, g.PadBottom + pad.Bottom, g.PadRight + pad.Right),
            (g.DilationH, g.DilationW), ConformanceCase.Int(attrs, "groups"), ConformanceCase.Bool(attrs, "bias"));
    }

    private static Layer<float> Pool(string name, Shape x, JsonElement attrs, ConformanceGeometry g, bool max)
    {
        Assert.That((g.PadBottom, g.PadRight), Is.EqualTo((g.PadTop, g.PadLeft)), "pool padding is symmetric");
        bool ceil = ConformanceCase.Bool(attrs, "ceil_mode");
        return max
            ? new MaxPool2DLayer<float>(name, x, (g.KernelH, g.KernelW), (g.StrideH, g.StrideW), (g.PadTop, g.PadLeft), (g.DilationH, g.DilationW), ceil)
            : new AvgPool2DLayer<float>(name, x, (g.KernelH, g.KernelW), (g.StrideH, g.StrideW), (g.PadTop, g.PadLeft), ceil, ConformanceCase.Bool(attrs, "count_include_pad"));
    }

    private static Shape ToShape(int[] itemShape) => itemShape.Length switch
    {
        1 => new Shape(itemShape[0], 1, 1),
        3 => new Shape(itemShape[0], itemShape[1], itemShape[2]),
        _ => throw new InvalidOperationException($"unexpected item shape of rank {itemShape.Length}"),
    };
}
