using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using CnnGen.Tests.Zoo;

namespace CnnGen.Bench;

/// <summary>
/// A network the bench times: its name (the folder under bench/models/ or tests/fixtures/zoo/), its FLOPs per image, how
/// to load it and its golden inputs. The five reference networks load bench/models/&lt;name&gt;/weights.safetensors; the
/// six zoo networks (issue 13) build their state_dict from the zoo's formula (tests/CnnGen.Tests.Zoo/Zoo/ZooWeights.cs).
/// </summary>
internal sealed class ModelInfo
{
    private readonly Func<LoadOptions, INetwork> _load;
    private readonly Func<float[]> _inputs;

    private ModelInfo(string name, long flops, bool zoo, Func<LoadOptions, INetwork> load, Func<float[]> inputs)
    {
        Name = name;
        Flops = flops;
        IsZoo = zoo;
        _load = load;
        _inputs = inputs;
    }

    /// <summary>The reference networks of ../shared/models, in the order of ../shared/peers/ort_bench.js.</summary>
    public static readonly IReadOnlyList<ModelInfo> Reference =
    [
        Model("mlp", Mlp.Flops, (p, o) => Mlp.Load(p, o)),
        Model("lenet5", LeNet5.Flops, (p, o) => LeNet5.Load(p, o)),
        Model("cifar_resnet8", CifarResNet8.Flops, (p, o) => CifarResNet8.Load(p, o)),
        Model("mobilenet_block", MobileNetBlock.Flops, (p, o) => MobileNetBlock.Load(p, o)),
        Model("vgg_block", VggBlock.Flops, (p, o) => VggBlock.Load(p, o)),
    ];

    /// <summary>The full-size networks of ../shared/zoo at 224x224 (issue 13), timed against ../shared/peers/run_ort_zoo.sh.</summary>
    public static readonly IReadOnlyList<ModelInfo> Zoo =
    [
        ZooModelInfo("alexnet", AlexNet.Flops),
        ZooModelInfo("vgg16", Vgg16.Flops),
        ZooModelInfo("resnet18", ResNet18.Flops),
        ZooModelInfo("resnet50", ResNet50.Flops),
        ZooModelInfo("mobilenet_v2", MobileNetV2.Flops),
        ZooModelInfo("efficientnet_b0", EfficientNetB0.Flops),
    ];

    /// <summary>Every network the bench knows; <c>--models zoo</c> names the six zoo networks.</summary>
    public static IEnumerable<ModelInfo> All => Reference.Concat(Zoo);

    public string Name { get; }

    public long Flops { get; }

    /// <summary>A zoo network: weights from the formula, goldens in float64, batch 1 by default.</summary>
    public bool IsZoo { get; }

    /// <summary>bench/models/&lt;name&gt;/ next to the executable (copied there by the build).</summary>
    public string Folder => Path.Combine(AppContext.BaseDirectory, "models", Name);

    /// <summary>Loads the network at the options' vector width.</summary>
    public INetwork Load(LoadOptions options) => _load(options);

    /// <summary>The golden inputs, NCHW, one image after the other.</summary>
    public float[] GoldenInput() => _inputs();

    /// <summary>golden_output.bin of a reference network (float32).</summary>
    public float[] GoldenOutput() => ReadFloats(Path.Combine(Folder, "golden_output.bin"));

    private static ModelInfo Model(string name, long flops, Func<string, LoadOptions, INetwork> load)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "models", name);
        return new ModelInfo(name, flops, zoo: false,
            o => load(Path.Combine(folder, "weights.safetensors"), o),
            () => ReadFloats(Path.Combine(folder, "golden_input.bin")));
    }

    /// <summary>The last zoo network's state_dict, reused by its other widths and dropped when the next network loads.</summary>
    private static (string Name, TensorSet Weights)? s_zooWeights;

    private static ModelInfo ZooModelInfo(string name, long flops)
    {
        // The state_dict (553 MB for VGG-16) is built once per network and shared by every width (the bench measures one
        // network's widths in a row); Load copies what it keeps into its packed arrays, so only one state_dict is alive.
        return new ModelInfo(name, flops, zoo: true, o =>
        {
            if (s_zooWeights?.Name != name)
            {
                s_zooWeights = null;
                s_zooWeights = (name, ZooWeights.Build(ZooModel.Load(name)));
            }

            return ZooNetworks.Load(name, s_zooWeights.Value.Weights, o);
        }, ZooWeights.Inputs);
    }

    private static float[] ReadFloats(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("the golden files are little-endian float32");
        }

        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }
}

/// <summary>The zoo's declared networks by folder name (the declarations are tests/CnnGen.Tests.Zoo.Networks).</summary>
internal static class ZooNetworks
{
    public static INetwork Load(string name, TensorSet weights, LoadOptions options) => name switch
    {
        "alexnet" => AlexNet.Load(weights, options),
        "vgg16" => Vgg16.Load(weights, options),
        "resnet18" => ResNet18.Load(weights, options),
        "resnet50" => ResNet50.Load(weights, options),
        "mobilenet_v2" => MobileNetV2.Load(weights, options),
        "efficientnet_b0" => EfficientNetB0.Load(weights, options),
        _ => throw new ArgumentException("'" + name + "' is not a zoo network", nameof(name)),
    };
}
