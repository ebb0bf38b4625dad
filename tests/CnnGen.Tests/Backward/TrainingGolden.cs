using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace CnnGen.Tests.Backward;

/// <summary>
/// The architectures of the training goldens, declared for <see cref="ReferenceNetwork{T}"/> exactly as
/// tests/CnnGen.Tests.Networks declares them for the generator (LeNet5Logits, Mlp without its softmax, CifarResNet8Bn).
/// </summary>
public static class Architectures
{
    public static void LeNet5(IReferenceNetworkBuilder b) => b
        .Conv2D("conv1", 6, 5, padding: 2).Relu().MaxPool2D(2)
        .Conv2D("conv2", 16, 5).Relu().MaxPool2D(2).Flatten()
        .Dense("fc1", 120).Relu().Dense("fc2", 84).Relu().Dense("fc3", 10);

    public static void Mlp(IReferenceNetworkBuilder b) => b
        .Flatten().Dense("fc1", 128).Relu().Dense("fc2", 64).Relu().Dense("fc3", 10);

    public static void CifarResNet8Bn(IReferenceNetworkBuilder b) => b
        .Conv2D("conv1", 16, 3, padding: 1, bias: false).BatchNorm2D("bn1").Relu("stem_relu")
        .Conv2D("layer1.conv1", 16, 3, padding: 1, bias: false).BatchNorm2D("layer1.bn1").Relu()
        .Conv2D("layer1.conv2", 16, 3, padding: 1, bias: false).BatchNorm2D("layer1.bn2")
        .Add("layer1.bn2", "stem_relu").Relu("layer1.out")
        .Conv2D("layer2.conv1", 32, 3, stride: 2, padding: 1, bias: false).BatchNorm2D("layer2.bn1").Relu()
        .Conv2D("layer2.conv2", 32, 3, padding: 1, bias: false).BatchNorm2D("layer2.bn2")
        .Conv2D("layer2.proj.0", 32, 1, stride: 2, bias: false, from: "layer1.out").BatchNorm2D("layer2.proj.1")
        .Add("layer2.bn2", "layer2.proj.1").Relu("layer2.out")
        .Conv2D("layer3.conv1", 64, 3, stride: 2, padding: 1, bias: false).BatchNorm2D("layer3.bn1").Relu()
        .Conv2D("layer3.conv2", 64, 3, padding: 1, bias: false).BatchNorm2D("layer3.bn2")
        .Conv2D("layer3.proj.0", 64, 1, stride: 2, bias: false, from: "layer2.out").BatchNorm2D("layer3.proj.1")
        .Add("layer3.bn2", "layer3.proj.1").Relu("layer3.out")
        .GlobalAvgPool2D().Flatten().Dense("fc", 10);
}

/// <summary>One network's PyTorch training goldens in tests/fixtures/training/&lt;name&gt; (see its README.md).</summary>
public sealed class TrainingGolden
{
    private readonly JsonElement _golden;

    private TrainingGolden(string name, Shape input, Action<IReferenceNetworkBuilder> define)
    {
        Name = name;
        Input = input;
        Define = define;
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(PathOf("golden.json")));
        _golden = document.RootElement.Clone();
    }

    /// <summary>Folder of the training goldens in the test output.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures", "training");

    public static IReadOnlyList<TrainingGolden> All { get; } = new[]
    {
        new TrainingGolden("lenet5", new Shape(1, 28, 28), Architectures.LeNet5),
        new TrainingGolden("mlp", new Shape(1, 28, 28), Architectures.Mlp),
        new TrainingGolden("cifar_resnet8_bn", new Shape(3, 32, 32), Architectures.CifarResNet8Bn),
    };

    public string Name { get; }

    public Shape Input { get; }

    public Action<IReferenceNetworkBuilder> Define { get; }

    /// <summary>PyTorch's initialisation after <c>torch.manual_seed(2026)</c>.</summary>
    public TensorSet Init => TensorSet.LoadSafeTensors(PathOf("init.safetensors"));

    /// <summary>d loss / d parameter on batch 0 at init.</summary>
    public TensorSet Grads => TensorSet.LoadSafeTensors(PathOf("grads.safetensors"));

    /// <summary>The logits of batch 0 at init, in training mode <c>[batch, 10]</c>.</summary>
    public float[] Batch0Logits => ReadFloats(PathOf("batch0_logits.bin"));

    /// <summary>The mean cross-entropy of batch 0 at init.</summary>
    public double Batch0Loss => _golden.GetProperty("batch0_loss").GetDouble();

    /// <summary>Whether the network has batch norm (its running statistics after one training forward are stored).</summary>
    public bool HasRunningStatistics => File.Exists(PathOf("running_after_forward.safetensors"));

    /// <summary>Every batch norm's running statistics after the training forward of batch 0.</summary>
    public TensorSet RunningAfterForward => TensorSet.LoadSafeTensors(PathOf("running_after_forward.safetensors"));

    /// <summary>Builds the network in <typeparamref name="T"/> with the initial weights loaded.</summary>
    public ReferenceNetwork<T> CreateNetwork<T>()
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        ReferenceNetwork<T> network = ReferenceNetwork<T>.Create(Input, Define);
        network.Load(Init);
        return network;
    }

    /// <summary>Training batch <paramref name="index"/> (0-2): NCHW input, labels and batch size.</summary>
    public (float[] Input, int[] Labels, int Batch) Batch(int index)
    {
        float[] input = ReadFloats(PathOf($"batch{index}_input.bin"));
        int[] labels = MemoryMarshal.Cast<byte, int>(File.ReadAllBytes(PathOf($"batch{index}_labels.bin"))).ToArray();
        Assert.That(input, Has.Length.EqualTo(labels.Length * Input.Size), $"{Name} batch {index} size");
        return (input, labels, labels.Length);
    }

    /// <summary>All float state after 3 steps of <paramref name="optimizer"/> (<c>sgd</c>, <c>adam</c>, <c>adamw</c>) from init.</summary>
    public TensorSet After(string optimizer) => TensorSet.LoadSafeTensors(PathOf($"after_{optimizer}.safetensors"));

    /// <summary>PyTorch's loss before each of the 3 steps of <paramref name="optimizer"/>.</summary>
    public double[] LossesBeforeEachStep(string optimizer) =>
        _golden.GetProperty("steps").GetProperty(optimizer).GetProperty("losses_before_each_step").EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public override string ToString() => Name;

    private static float[] ReadFloats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    private string PathOf(string file) => Path.Combine(Directory, Name, file);
}
