using System;
using System.IO;
using System.Runtime.InteropServices;

namespace CnnGen.Tests.Models;

/// <summary>Paths and raw readers for tests/fixtures (copied from ../shared; see tests/fixtures/README.md).</summary>
public static class Fixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "fixtures");

    public static string Model(string name, string file) => Path.Combine(Root, "models", name, file);

    public static float[] Floats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    public static int[] Ints(string path) => MemoryMarshal.Cast<byte, int>(File.ReadAllBytes(path)).ToArray();

    /// <summary>The 2,000 MNIST test digits as pixel/255 floats, NCHW, and their labels.</summary>
    public static (float[] Images, byte[] Labels) MnistTest()
    {
        var images = Mnist.Idx.ReadImages(Path.Combine(Root, "mnist", "t10k-images-idx3-ubyte.gz"));
        var labels = Mnist.Idx.ReadLabels(Path.Combine(Root, "mnist", "t10k-labels-idx1-ubyte.gz"));
        var all = new float[images.Count * 784];
        for (int i = 0; i < images.Count; i++)
        {
            images.ToFloat(i, all.AsSpan(i * 784, 784));
        }

        return (all, labels);
    }
}
