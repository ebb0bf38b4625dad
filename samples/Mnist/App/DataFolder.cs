using System;
using System.Buffers.Binary;
using System.IO;

namespace Mnist;

/// <summary>
/// The sample's data folder: the MNIST test and training digits with their labels, PyTorch's weights and its
/// predictions.
/// </summary>
public sealed class DataFolder
{
    public const string ImagesFile = "t10k-images-idx3-ubyte.gz";
    public const string LabelsFile = "t10k-labels-idx1-ubyte.gz";
    public const string TrainImagesFile = "train-images-idx3-ubyte.gz";
    public const string TrainLabelsFile = "train-labels-idx1-ubyte.gz";
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

/// <summary>
/// Where <c>run</c>, <c>classify</c> and <c>show</c> take the weights from: the data folder (PyTorch's), or a folder
/// given with <c>--weights</c> (e.g. what <c>train</c> wrote).
/// </summary>
public sealed class WeightsSource
{
    private readonly DataFolder _data;

    private WeightsSource(DataFolder data, string? folder)
    {
        _data = data;
        Folder = folder;
    }

    /// <summary>The <c>--weights</c> folder (full path), or null for the data folder.</summary>
    public string? Folder { get; }

    public static WeightsSource Resolve(DataFolder data, string? folder)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (folder is null)
        {
            return new WeightsSource(data, null);
        }

        ArgumentException.ThrowIfNullOrEmpty(folder);
        string full = System.IO.Path.GetFullPath(folder);
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"{full}: weights folder not found (--weights DIR)");
        }

        return new WeightsSource(data, full);
    }

    /// <summary>The weights file of network <paramref name="key"/>, or a <see cref="FileNotFoundException"/> naming it.</summary>
    public string Require(string key)
    {
        string name = Model.WeightsFileName(key);
        if (Folder is null)
        {
            return _data.Require(name);
        }

        string file = System.IO.Path.Combine(Folder, name);
        if (!System.IO.File.Exists(file))
        {
            throw new FileNotFoundException($"{file}: file not found (--weights expects {DataFolder.LeNet5Weights} and {DataFolder.MlpWeights}, as train writes them)", file);
        }

        return file;
    }

    /// <summary>
    /// True when network <paramref name="key"/>'s weights are PyTorch's: the data folder's file, or a byte-identical
    /// copy. Only then do PyTorch's predictions apply.
    /// </summary>
    public bool IsPyTorchs(string key)
    {
        if (Folder is null)
        {
            return true;
        }

        string reference = _data.File(Model.WeightsFileName(key));
        string file = Require(key);
        if (!System.IO.File.Exists(reference) || new FileInfo(reference).Length != new FileInfo(file).Length)
        {
            return false;
        }

        return System.IO.File.ReadAllBytes(reference).AsSpan().SequenceEqual(System.IO.File.ReadAllBytes(file));
    }
}

/// <summary>
/// MNIST digits as network inputs (pixel / 255, NCHW [1, 28, 28] each) with their labels: the 2,000 test digits
/// (<see cref="LoadTest"/>) or the 8,000 training digits (<see cref="LoadTraining"/>).
/// </summary>
public sealed class DigitSet
{
    public const int Side = 28;
    public const int Pixels = Side * Side;

    private DigitSet(IdxImages images, byte[] labels, float[] inputs)
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

    /// <summary>The test digits of <paramref name="data"/>.</summary>
    public static DigitSet LoadTest(DataFolder data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Load(data.Require(DataFolder.ImagesFile), data.Require(DataFolder.LabelsFile));
    }

    /// <summary>The training digits of <paramref name="data"/>.</summary>
    public static DigitSet LoadTraining(DataFolder data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Load(data.Require(DataFolder.TrainImagesFile), data.Require(DataFolder.TrainLabelsFile));
    }

    public static DigitSet Load(string imagesPath, string labelsPath)
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

        return new DigitSet(images, labels, inputs);
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
