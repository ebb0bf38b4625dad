using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace CnnGen.Tests.Zoo;

/// <summary>One torchvision module of a zoo model as golden.json lists it: state_dict path, type, output shape.</summary>
/// <param name="Module">The module path, for example <c>layer1.0.conv1</c>.</param>
/// <param name="Type">The PyTorch class, for example <c>Conv2d</c>.</param>
/// <param name="Output">The output shape without the batch axis.</param>
public sealed record ZooLayer(string Module, string Type, int[] Output);

/// <summary>One state_dict tensor of a zoo model: its key and shape, and its formula parameters (none for running statistics).</summary>
/// <param name="Name">The state_dict key.</param>
/// <param name="Shape">The PyTorch shape.</param>
/// <param name="Bound">The formula's bound, or <see langword="null"/> for a batch-norm running statistic (read from running_stats.safetensors).</param>
/// <param name="Offset">The formula's offset.</param>
public sealed record ZooTensor(string Name, int[] Shape, float? Bound, float Offset)
{
    /// <summary>The number of elements.</summary>
    public int Count => Shape.Aggregate(1, (a, b) => checked(a * b));
}

/// <summary>
/// A model of ../shared/zoo as copied to tests/fixtures/zoo/&lt;model&gt;: golden.json (parameters, weight rules, every
/// state_dict tensor, every module's output shape), the PyTorch float64 and float32 outputs of the two formula images
/// and the batch-norm running statistics.
/// </summary>
public sealed class ZooModel
{
    /// <summary>The models of the zoo, by folder name.</summary>
    public static readonly IReadOnlyList<string> Names = ["alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0"];

    /// <summary>Input channels, height and width of every zoo model.</summary>
    public static readonly int[] InputShape = [3, 224, 224];

    /// <summary>The number of classes.</summary>
    public const int Classes = 1000;

    /// <summary>The number of golden images (<c>input0</c>, <c>input1</c>).</summary>
    public const int Images = 2;

    private ZooModel(string name, string directory)
    {
        Name = name;
        Directory = directory;
    }

    /// <summary>The folder name (<c>resnet18</c>).</summary>
    public string Name { get; }

    /// <summary>The fixture folder.</summary>
    public string Directory { get; }

    /// <summary>torchvision's parameter count.</summary>
    public long Parameters { get; private set; }

    /// <summary>Floats in the state_dict: parameters plus batch-norm running statistics.</summary>
    public long StateDictFloats { get; private set; }

    /// <summary>PyTorch's predicted class of each golden image.</summary>
    public int[] Argmax { get; private set; } = [];

    /// <summary>PyTorch float32's max abs error against float64 on the golden outputs.</summary>
    public double PyTorchFloat32Error { get; private set; }

    /// <summary>The largest absolute golden output.</summary>
    public double MaxAbsOutput { get; private set; }

    /// <summary>Every state_dict tensor in state_dict order.</summary>
    public IReadOnlyList<ZooTensor> Tensors { get; private set; } = [];

    /// <summary>Every module in forward order (a module called twice, like ResNet's shared ReLU, is listed twice).</summary>
    public IReadOnlyList<ZooLayer> Layers { get; private set; } = [];

    /// <summary>The tolerance the zoo's README suggests: max(2e-4, 10 x PyTorch's own float32 error).</summary>
    public double Tolerance => Math.Max(2e-4, 10 * PyTorchFloat32Error);

    /// <summary>The fixture root: <c>fixtures/zoo</c> in the output folder.</summary>
    public static string Root => Path.Combine(AppContext.BaseDirectory, "fixtures", "zoo");

    /// <summary>Reads a model's golden.json.</summary>
    /// <param name="name">The folder name, one of <see cref="Names"/>.</param>
    /// <returns>The model.</returns>
    public static ZooModel Load(string name)
    {
        if (!Names.Contains(name))
        {
            throw new ArgumentException($"'{name}' is not a zoo model; the zoo has {string.Join(", ", Names)}.", nameof(name));
        }

        var model = new ZooModel(name, Path.Combine(Root, name));
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(model.Directory, "golden.json")));
        var root = json.RootElement;
        model.Parameters = root.GetProperty("parameters").GetInt64();
        model.StateDictFloats = root.GetProperty("state_dict_floats").GetInt64();
        model.Argmax = root.GetProperty("argmax").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        model.PyTorchFloat32Error = root.GetProperty("pytorch_f32_max_abs_error_vs_f64").GetDouble();
        model.MaxAbsOutput = root.GetProperty("max_abs_output").GetDouble();
        var rules = root.GetProperty("weight_rules");
        model.Tensors = root.GetProperty("external_data").GetProperty("tensors").EnumerateArray().Select(t =>
        {
            string key = t.GetProperty("name").GetString()!;
            int[] shape = t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            return rules.TryGetProperty(key, out var rule)
                ? new ZooTensor(key, shape, (float)rule.GetProperty("bound").GetDouble(), (float)rule.GetProperty("offset").GetDouble())
                : new ZooTensor(key, shape, null, 0f);
        }).ToArray();
        model.Layers = root.GetProperty("layers").EnumerateArray().Select(l => new ZooLayer(
            l.GetProperty("module").GetString()!,
            l.GetProperty("type").GetString()!,
            l.GetProperty("output").EnumerateArray().Select(d => d.GetInt32()).ToArray())).ToArray();
        return model;
    }

    /// <summary>PyTorch's float64 outputs, [2, 1000] row-major (golden_output_f64.bin).</summary>
    public double[] GoldenFloat64() => MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(Path.Combine(Directory, "golden_output_f64.bin"))).ToArray();

    /// <summary>PyTorch's float32 outputs, [2, 1000] row-major (golden_output.bin).</summary>
    public float[] GoldenFloat32() => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Directory, "golden_output.bin"))).ToArray();

    /// <summary>The batch-norm running statistics (running_stats.safetensors); empty for models without batch norm.</summary>
    public TensorSet RunningStatistics()
    {
        string path = Path.Combine(Directory, "running_stats.safetensors");
        return File.Exists(path) ? TensorSet.LoadSafeTensors(path) : new TensorSet([]);
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
