using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>
/// The PyTorch training goldens of tests/fixtures/training (a verbatim copy of ../shared/training; see its
/// README.md): per network, the init, the batch-0 gradients, three batches, the loss before each step and all
/// weights after 3 steps of SGD, Adam and AdamW, with the optimizer settings in golden.json.
/// </summary>
public static class TrainingGolden
{
    /// <summary>The networks with goldens.</summary>
    public static readonly string[] Networks = ["lenet5", "mlp", "cifar_resnet8_bn"];

    /// <summary>The optimizers of the goldens (keys of golden.json's "steps").</summary>
    public static readonly string[] Optimizers = ["sgd", "adam", "adamw"];

    /// <summary>Every (network, optimizer) pair, for [TestCaseSource].</summary>
    public static IEnumerable<TestCaseData> Cases() =>
        from n in Networks from o in Optimizers select new TestCaseData(n, o).SetArgDisplayNames(n, o);

    public static string Path(string network, string file) =>
        System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "training", network, file);

    public static TensorSet Load(string network, string file) => TensorSet.LoadSafeTensors(Path(network, file));

    public static JsonElement Json(string network)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path(network, "golden.json")));
        return document.RootElement.Clone();
    }

    /// <summary>Batch <paramref name="batch"/>: NCHW floats, int32 labels and the per-image shape (C, H, W).</summary>
    public static (float[] Input, int[] Labels, int[] Shape) Batch(string network, int batch)
    {
        JsonElement entry = Json(network).GetProperty("batches")[batch];
        int[] shape = entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        float[] input = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path(network, entry.GetProperty("input").GetString()!))).ToArray();
        int[] labels = MemoryMarshal.Cast<byte, int>(File.ReadAllBytes(Path(network, entry.GetProperty("labels").GetString()!))).ToArray();
        Assert.That(input, Has.Length.EqualTo(shape.Aggregate(1, (a, b) => a * b)), "input size");
        Assert.That(labels, Has.Length.EqualTo(shape[0]), "labels");
        return (input, labels, shape[1..]);
    }

    /// <summary>The losses PyTorch computed before each of the 3 steps of <paramref name="optimizer"/>.</summary>
    public static double[] Losses(string network, string optimizer) =>
        Json(network).GetProperty("steps").GetProperty(optimizer).GetProperty("losses_before_each_step").EnumerateArray().Select(e => e.GetDouble()).ToArray();

    /// <summary>golden.json's optimizer description, e.g. <c>torch.optim.SGD(lr=0.05, momentum=0.9, weight_decay=5e-4) (...)</c>.</summary>
    public static string OptimizerText(string network, string optimizer) =>
        Json(network).GetProperty("steps").GetProperty(optimizer).GetProperty("optimizer").GetString()!;

    /// <summary>The keyword arguments of golden.json's <c>torch.optim.X(...)</c> call, e.g. <c>lr</c> = <c>0.05</c>, <c>betas</c> = <c>(0.9, 0.999)</c>.</summary>
    public static (string Class, Dictionary<string, string> Arguments) ParseOptimizer(string text)
    {
        Match call = Regex.Match(text, @"^torch\.optim\.(\w+)\((.*?)\)(?:\s|$)");
        Assert.That(call.Success, Is.True, $"cannot parse '{text}'");
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(call.Groups[2].Value + ")", @"(\w+)=(\([^)]*\)|[^,)]+)"))
        {
            arguments[m.Groups[1].Value] = m.Groups[2].Value.Trim();
        }

        return (call.Groups[1].Value, arguments);
    }

    /// <summary>Creates the optimizer golden.json describes for <paramref name="optimizer"/>, over <paramref name="parameters"/>.</summary>
    public static Optimizer Create(string network, string optimizer, IReadOnlyList<Parameter> parameters)
    {
        (string cls, Dictionary<string, string> a) = ParseOptimizer(OptimizerText(network, optimizer));
        double Get(string key, double fallback) => a.TryGetValue(key, out string? v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
        (double b1, double b2) = (0.9, 0.999);
        if (a.TryGetValue("betas", out string? betas))
        {
            double[] pair = betas.Trim('(', ')').Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            (b1, b2) = (pair[0], pair[1]);
        }

        bool ams = a.TryGetValue("amsgrad", out string? flag) && flag == "True";
        return cls switch
        {
            "SGD" => new Sgd(parameters, new SgdOptions { LearningRate = Get("lr", double.NaN), Momentum = Get("momentum", 0), Dampening = Get("dampening", 0), WeightDecay = Get("weight_decay", 0), Nesterov = a.TryGetValue("nesterov", out string? n) && n == "True" }),
            "Adam" => new Adam(parameters, new AdamOptions { LearningRate = Get("lr", 1e-3), Beta1 = b1, Beta2 = b2, Epsilon = Get("eps", 1e-8), WeightDecay = Get("weight_decay", 0), AmsGrad = ams }),
            "AdamW" => new AdamW(parameters, new AdamWOptions { LearningRate = Get("lr", 1e-3), Beta1 = b1, Beta2 = b2, Epsilon = Get("eps", 1e-8), WeightDecay = Get("weight_decay", 1e-2), AmsGrad = ams }),
            _ => throw new AssertionException($"unknown optimizer class {cls}"),
        };
    }

    /// <summary>Dense (unpacked) parameters named and shaped like the trainable tensors of grads.safetensors, values from init.</summary>
    public static List<Parameter> DenseParameters(string network)
    {
        TensorSet init = Load(network, "init.safetensors");
        var list = new List<Parameter>();
        foreach (Tensor g in Load(network, "grads.safetensors"))
        {
            var p = new Parameter(g.Name, g.Shape.ToArray(), new float[g.Length], new float[g.Length]);
            p.SetValue(init.Get(g.Name));
            list.Add(p);
        }

        return list;
    }

    /// <summary>|actual - expected| &lt;= tol + tol * |expected| for every element, naming the first failure.</summary>
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double tolerance, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        for (int i = 0; i < actual.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            if (!(error <= tolerance + (tolerance * Math.Abs(expected[i]))))
            {
                Assert.Fail($"{what}[{i}]: {actual[i]:R} vs PyTorch {expected[i]:R} (|error| {error:G3}, tolerance {tolerance:G3} abs + rel)");
            }
        }
    }
}
