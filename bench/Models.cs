using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace CnnGen.Bench;

/// <summary>A reference network: its folder under models/, its FLOPs per image and how to load it.</summary>
internal sealed record ModelInfo(string Name, long Flops, Func<string, LoadOptions, INetwork> Load)
{
    /// <summary>The bench's reference networks, in the order of ../shared/peers/ort_bench.js.</summary>
    public static readonly IReadOnlyList<ModelInfo> All =
    [
        new("mlp", Mlp.Flops, (p, o) => Mlp.Load(p, o)),
        new("lenet5", LeNet5.Flops, (p, o) => LeNet5.Load(p, o)),
        new("cifar_resnet8", CifarResNet8.Flops, (p, o) => CifarResNet8.Load(p, o)),
        new("mobilenet_block", MobileNetBlock.Flops, (p, o) => MobileNetBlock.Load(p, o)),
        new("vgg_block", VggBlock.Flops, (p, o) => VggBlock.Load(p, o)),
    ];

    /// <summary>models/&lt;name&gt;/ next to the executable (copied there by the build).</summary>
    public string Folder => Path.Combine(AppContext.BaseDirectory, "models", Name);

    public string WeightsPath => Path.Combine(Folder, "weights.safetensors");

    public float[] GoldenInput() => ReadFloats(Path.Combine(Folder, "golden_input.bin"));

    public float[] GoldenOutput() => ReadFloats(Path.Combine(Folder, "golden_output.bin"));

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
