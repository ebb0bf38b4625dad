using System;
using System.Buffers.Binary;
using System.IO;

namespace Mnist;

/// <summary>The sample's data folder: the MNIST test digits, their labels, the weights and PyTorch's predictions.</summary>
public sealed class DataFolder
{
    public const string ImagesFile = "t10k-images-idx3-ubyte.gz";
    public const string LabelsFile = "t10k-labels-idx1-ubyte.gz";
    public const string LeNet5Weights = "lenet5.safetensors";
    public const string MlpWeights = "mlp.safetensors";
    public const string LeNet5Predictions = "lenet5_predictions.bin";
    public const string MlpPredictions = "mlp_predictions.bin";

    public DataFolder(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(Path))
        {
            throw new DirectoryNotFoundException($"{Path}: data folder not found (use --data DIR)");
        }
    }

    /// <summary>The folder next to the executable (the build copies data/ there).</summary>
    public static string DefaultPath => System.IO.Path.Combine(AppContext.BaseDirectory, "data");

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>The path of <paramref name="name"/>, or a <see cref="FileNotFoundException"/> naming it.</summary>
    public string Require(string name)
    {
        string file = File(name);
        if (!System.IO.File.Exists(file))
        {
            throw new FileNotFoundException($"{file}: file not found", file);
        }

        return file;
    }
}

/// <summary>The MNIST test digits as network inputs (pixel / 255, NCHW [1, 28, 28] each) with their labels.</summary>
public sealed class TestSet
{
    public const int Side = 28;
    public const int Pixels = Side * Side;

    private TestSet(IdxImages images, byte[] labels, float[] inputs)
    {
        Images = images;
        Labels = labels;
        Inputs = inputs;
    }

    public IdxImages Images { get; }
    public byte[] Labels { get; }

    /// <summary>All digits as floats, one after another (Count x 784).</summary>
    public float[] Inputs { get; }

    public int Count => Labels.Length;

    public ReadOnlySpan<float> Input(int i) => Inputs.AsSpan(i * Pixels, Pixels);

    public float[] InputArray(int i) => Input(i).ToArray();

    public static TestSet Load(string imagesPath, string labelsPath)
    {
        IdxImages images = Idx.ReadImages(imagesPath);
        if (images.Rows != Side || images.Cols != Side)
        {
            throw new InvalidDataException($"{imagesPath}: images are {images.Rows} x {images.Cols}, MNIST digits are {Side} x {Side}");
        }

        if (images.Count == 0)
        {
            throw new InvalidDataException($"{imagesPath}: the file holds no images");
        }

        byte[] labels = Idx.ReadLabels(labelsPath);
        if (labels.Length != images.Count)
        {
            throw new InvalidDataException($"{labelsPath}: {labels.Length} labels for {images.Count} images in {imagesPath}");
        }

        var inputs = new float[images.Count * Pixels];
        for (int i = 0; i < images.Count; i++)
        {
            images.ToFloat(i, inputs.AsSpan(i * Pixels, Pixels));
        }

        return new TestSet(images, labels, inputs);
    }

    /// <summary>Reads PyTorch's predicted classes (int32 little-endian, one per digit).</summary>
    public static int[] ReadPredictions(string path, int count)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found", path);
        }

        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length != 4L * count)
        {
            throw new InvalidDataException($"{path}: {bytes.Length} bytes, expected {count} int32 predictions ({4L * count} bytes)");
        }

        var result = new int[count];
        for (int i = 0; i < count; i++)
        {
            int p = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i));
            if (p is < 0 or > 9)
            {
                throw new InvalidDataException($"{path}: prediction {p} at index {i} is not a digit");
            }

            result[i] = p;
        }

        return result;
    }
}
