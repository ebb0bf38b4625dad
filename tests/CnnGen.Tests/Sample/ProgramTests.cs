using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Runtime.Intrinsics;
using Mnist;

namespace CnnGen.Tests.Sample;

/// <summary>The MNIST sample's commands end to end: run, classify, show, and bad input.</summary>
[TestFixture]
public class ProgramTests
{
    // Few timed predictions and no warm-up: these tests check results, not speed.
    private static readonly string[] Quick = ["--runs", "20", "--warmup", "0"];

    private string _dir = string.Empty;

    [SetUp]
    public void SetUp() => _dir = SampleFiles.NewTempDir();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static string DataDir => SampleFiles.DataDir;

    private static (int Code, string Out, string Err) Run(params string[] args) => SampleFiles.RunSample(TrainerFactory.Default, args);

    // The default run (widest vector width) is shared by the tests that only read its output.
    private static readonly Lazy<(int Code, string Out, string Err)> DefaultRun = new(() => Run(Quick));

    [Test]
    public void Run_GivesPyTorchsAccuracyAndPredictions()
    {
        var (code, output, error) = DefaultRun.Value;

        Assert.Multiple(() =>
        {
            Assert.That(error, Is.Empty);
            Assert.That(code, Is.Zero, output);
            Assert.That(output, Does.Contain("test accuracy:   96.65% (1,933/2,000 digits); PyTorch: 96.65%"));
            Assert.That(output, Does.Contain("test accuracy:   93.80% (1,876/2,000 digits); PyTorch: 93.80%"));
            Assert.That(CountOf(output, "agrees with PyTorch on 2000/2000 digits"), Is.EqualTo(2));
            Assert.That(output, Does.Contain(LeNet5.Summary));
            Assert.That(output, Does.Contain(Mlp.Summary));
            Assert.That(output, Does.Contain("time to first prediction:"));
            Assert.That(output, Does.Contain("The CNN has 44% fewer parameters and 2.85 points higher accuracy"));
        });
    }

    [Test]
    public void Run_ComparisonTable_IsAligned()
    {
        var (code, output, _) = DefaultRun.Value;
        Assert.That(code, Is.Zero);

        string[] lines = output.Split('\n');
        int start = Array.FindIndex(lines, l => l.StartsWith("== CNN versus fully connected ==", StringComparison.Ordinal));
        Assert.That(start, Is.GreaterThan(0));
        // Spectre.Console's horizontal border: rule, header, rule, rows, rule.
        Assert.That(lines[start + 2], Does.Match("^─+\\s*$"));
        string header = lines[start + 3];
        Assert.That(lines[start + 4], Does.Match("^─+\\s*$"));
        string[] rows = lines.Skip(start + 5).TakeWhile(l => !l.StartsWith('─')).ToArray();
        string parameters = rows.Single(r => r.TrimStart().StartsWith("parameters", StringComparison.Ordinal));
        string accuracy = rows.Single(r => r.TrimStart().StartsWith("test accuracy", StringComparison.Ordinal));

        Assert.Multiple(() =>
        {
            Assert.That(rows, Has.Length.EqualTo(6));
            Assert.That(parameters, Does.Contain("61,706").And.Contain("109,386"));
            Assert.That(accuracy, Does.Contain("96.65%").And.Contain("93.80%"));
            // Right-aligned columns: the LeNet-5 column ends where its header ends.
            int cnnEnd = header.IndexOf("LeNet-5 (CNN)", StringComparison.Ordinal) + "LeNet-5 (CNN)".Length;
            Assert.That(parameters.IndexOf("61,706", StringComparison.Ordinal) + "61,706".Length, Is.EqualTo(cnnEnd));
            Assert.That(accuracy.IndexOf("96.65%", StringComparison.Ordinal) + "96.65%".Length, Is.EqualTo(cnnEnd));
        });
    }

    // The default run covers the widest accelerated width; these cover the narrower kernels.
    [TestCase("128")]
    [TestCase("256")]
    public void Run_AtNarrowerVectorWidths_AgreesWithPyTorch(string width)
    {
        if (width == "256" && !Vector256.IsHardwareAccelerated)
        {
            Assert.Ignore("Vector256 is not accelerated here");
        }

        var (code, output, error) = Run([.. Quick, "--width", width]);

        Assert.Multiple(() =>
        {
            Assert.That(error, Is.Empty);
            Assert.That(code, Is.Zero);
            Assert.That(output, Does.Contain($"running V{width} kernels"));
            Assert.That(CountOf(output, "agrees with PyTorch on 2000/2000 digits"), Is.EqualTo(2));
        });
    }

    [Test]
    public void Run_WhenANetworkDisagreesWithPyTorch_ExitsWith2()
    {
        string data = CopyData();
        string predictions = Path.Combine(data, DataFolder.LeNet5Predictions);
        byte[] bytes = File.ReadAllBytes(predictions);
        int p = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(40));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(40), (p + 1) % 10);
        File.WriteAllBytes(predictions, bytes);

        var (code, output, error) = Run([.. Quick, "--data", data]);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2));
            Assert.That(output, Does.Contain("agrees with PyTorch on 1999/2000 digits (first difference: digit #10)"));
            Assert.That(error.TrimEnd(), Is.EqualTo("error: LeNet-5 (CNN) disagrees with PyTorch on 1 of 2000 digits (first: digit #10)"));
        });
    }

    [Test]
    public void Run_WithACopyOfPyTorchsWeights_StillChecksAgreement()
    {
        string weights = Path.Combine(_dir, "copy");
        Directory.CreateDirectory(weights);
        File.Copy(Path.Combine(DataDir, DataFolder.LeNet5Weights), Path.Combine(weights, DataFolder.LeNet5Weights));
        File.Copy(Path.Combine(DataDir, DataFolder.MlpWeights), Path.Combine(weights, DataFolder.MlpWeights));

        var (code, output, error) = Run([.. Quick, "--weights", weights]);

        Assert.Multiple(() =>
        {
            Assert.That(error, Is.Empty);
            Assert.That(code, Is.Zero);
            Assert.That(output, Does.Contain($"weights:   {weights} (PyTorch's, as in the data folder)"));
            Assert.That(CountOf(output, "agrees with PyTorch on 2000/2000 digits"), Is.EqualTo(2));
        });
    }

    [Test]
    public void Run_WithOtherWeights_DoesNotCompareWithPyTorch_AndExits0()
    {
        // LeNet-5 with conv1's filters negated: other predictions, which must not count as a disagreement.
        string weights = Path.Combine(_dir, "other");
        Directory.CreateDirectory(weights);
        TensorSet lenet = TensorSet.LoadSafeTensors(Path.Combine(DataDir, DataFolder.LeNet5Weights));
        float[] conv1 = lenet.Get("conv1.weight").Data.ToArray();
        for (int i = 0; i < conv1.Length; i++)
        {
            conv1[i] = -conv1[i];
        }

        using (FileStream file = File.Create(Path.Combine(weights, DataFolder.LeNet5Weights)))
        {
            TensorSet.SaveSafeTensors(file, new TensorSet(lenet.Select(t => t.Name == "conv1.weight" ? new Tensor(t.Name, t.Shape.ToArray(), conv1) : t)));
        }

        File.Copy(Path.Combine(DataDir, DataFolder.MlpWeights), Path.Combine(weights, DataFolder.MlpWeights));

        var (code, output, error) = Run([.. Quick, "--weights", weights]);

        Assert.Multiple(() =>
        {
            Assert.That(error, Is.Empty);
            Assert.That(code, Is.Zero, "exit code 2 is for PyTorch's weights only");
            Assert.That(output, Does.Contain($"weights:   {weights} (not PyTorch's: agreement with PyTorch's predictions is not checked)"));
            Assert.That(output, Does.Contain($"weights:         {Path.Combine(weights, DataFolder.LeNet5Weights)} (not PyTorch's)"));
            Assert.That(output, Does.Not.Contain("test accuracy:   96.65%"));
            Assert.That(CountOf(output, "agrees with PyTorch on 2000/2000 digits"), Is.EqualTo(1), "the MLP's weights are PyTorch's");
            Assert.That(output, Does.Contain("agrees with PyTorch"), "the comparison keeps the row while one network has PyTorch's weights");
        });

        var (classifyCode, classifyOutput, _) = Run("classify", Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "images", "gray8.png"), "--weights", weights);
        Assert.That(classifyCode, Is.Zero);
        Assert.That(classifyOutput, Does.Contain($"network:    LeNet-5 (CNN), ").And.Contain($", weights {Path.Combine(weights, DataFolder.LeNet5Weights)}"));
    }

    [TestCase(0, false)]
    [TestCase(1, true)]
    [TestCase(4, false)]
    public void Classify_ScaledUpMnistDigit_GivesItsLabel(int index, bool asPgm)
    {
        IdxImages images = Idx.ReadImages(Path.Combine(DataDir, DataFolder.ImagesFile));
        byte[] labels = Idx.ReadLabels(Path.Combine(DataDir, DataFolder.LabelsFile));
        string file = Path.Combine(_dir, asPgm ? "digit.pgm" : "digit.png");
        GrayImage picture = ScaledUp(images.Image(index), scale: 5, marginX: 13, marginY: 21, invert: !asPgm);
        if (asPgm)
        {
            picture.SavePgm(file); // light on dark, as MNIST itself
        }
        else
        {
            picture.SavePng(file); // dark ink on white paper
        }

        var (code, output, error) = Run("classify", file);

        Assert.Multiple(() =>
        {
            Assert.That(error, Is.Empty);
            Assert.That(code, Is.Zero);
            Assert.That(output, Does.Contain($"prediction: {labels[index]} ("));
            Assert.That(output, Does.Contain($"({picture.Width} x {picture.Height} pixels)"));
            Assert.That(CountOf(output, "%"), Is.GreaterThanOrEqualTo(11), "the class's and all ten probabilities");
        });
    }

    [Test]
    public void Classify_WithMlp_UsesTheMlp()
    {
        IdxImages images = Idx.ReadImages(Path.Combine(DataDir, DataFolder.ImagesFile));
        string file = Path.Combine(_dir, "seven.png");
        ScaledUp(images.Image(4), scale: 3, marginX: 4, marginY: 4, invert: true).SavePng(file);

        var (code, output, _) = Run("classify", file, "--net", "mlp");

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero);
            Assert.That(output, Does.Contain("network:    MLP 784-128-64-10"));
            Assert.That(output, Does.Contain("prediction: 7 ("));
        });
    }

    [Test]
    public void Show_WritesDecodablePngs()
    {
        string outDir = Path.Combine(_dir, "pictures");

        var (code, output, error) = Run("show", "--out", outDir, "--digit", "3");

        Assert.Multiple(() =>
        {
            Assert.That(error, Is.Empty);
            Assert.That(code, Is.Zero);
            Assert.That(output, Does.Contain($"wrote {ShowCommand.Files.Length} pictures"));
            foreach (string name in ShowCommand.Files)
            {
                string path = Path.Combine(outDir, name);
                Assert.That(File.Exists(path), name);
                GrayImage image = Png.Load(path);
                Assert.That(image.Width, Is.GreaterThan(20), name);
                Assert.That(image.Pixels.Max() - image.Pixels.Min(), Is.GreaterThan(0.2f), name + " is not blank");
            }

            Assert.That(Png.Load(Path.Combine(outDir, "digit.png")).Width, Is.EqualTo(28 * 8));
            Assert.That(output, Does.Contain("test digit #3"));
        });
    }

    [Test]
    public void FeatureMapNetworks_MatchADirectConvolution()
    {
        TensorSet weights = TensorSet.LoadSafeTensors(Path.Combine(DataDir, DataFolder.LeNet5Weights));
        IdxImages images = Idx.ReadImages(Path.Combine(DataDir, DataFolder.ImagesFile));
        float[] input = images.ToFloat(7);
        float[] w = weights.Get("conv1.weight").Data.ToArray();
        float[] b = weights.Get("conv1.bias").Data.ToArray();

        var partial = new LoadOptions { Strict = false }; // the cut-down networks read only the first layers of the file
        float[] maps = LeNet5Conv1.Load(weights, partial).Predict(input);
        float[] maps2 = LeNet5Conv2.Load(weights, partial).Predict(input);

        Assert.That(maps, Has.Length.EqualTo(6 * 28 * 28));
        Assert.That(maps2, Has.Length.EqualTo(16 * 10 * 10));
        for (int c = 0; c < 6; c++)
        {
            for (int y = 0; y < 28; y++)
            {
                for (int x = 0; x < 28; x++)
                {
                    double sum = b[c];
                    for (int ky = 0; ky < 5; ky++)
                    {
                        for (int kx = 0; kx < 5; kx++)
                        {
                            int iy = y + ky - 2, ix = x + kx - 2;
                            if (iy is >= 0 and < 28 && ix is >= 0 and < 28)
                            {
                                sum += w[c * 25 + ky * 5 + kx] * input[iy * 28 + ix];
                            }
                        }
                    }

                    float expected = (float)Math.Max(sum, 0);
                    Assert.That(maps[(c * 28 + y) * 28 + x], Is.EqualTo(expected).Within(1e-4f), $"channel {c} ({x}, {y})");
                }
            }
        }

        Assert.That(maps2.All(v => v >= 0f && float.IsFinite(v)), "ReLU output");
    }

    [Test]
    public void Help_PrintsUsage()
    {
        var (code, output, error) = Run("--help");

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero);
            Assert.That(error, Is.Empty);
            Assert.That(output, Does.Contain("Usage:").And.Contain(" [command] [options]"));
            foreach (string command in new[] { "run", "classify <FILE>", "show", "train" })
            {
                Assert.That(output, Does.Contain("  " + command + " "), command);
            }

            Assert.That(output, Does.Contain("--weights <DIR>").And.Contain("Exit codes: 0 success"));
        });
    }

    [Test]
    [NonParallelizable]
    public void Main_WritesToTheConsole()
    {
        TextWriter oldOut = Console.Out, oldErr = Console.Error;
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        try
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            Assert.Multiple(() =>
            {
                Assert.That(Mnist.Program.Main(["--help"]), Is.Zero);
                Assert.That(Mnist.Program.Main(["classify", Path.Combine(_dir, "missing.png")]), Is.EqualTo(1));
            });
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }

        Assert.Multiple(() =>
        {
            Assert.That(stdout.ToString(), Does.Contain("Usage:"));
            Assert.That(stderr.ToString().TrimEnd(), Is.EqualTo($"error: {Path.Combine(_dir, "missing.png")}: file not found"));
        });
    }

    public enum Bad
    {
        MissingImage,
        TruncatedPng,
        PngWithBadCrc,
        NotAnImage,
        BlankImage,
        TruncatedIdxImages,
        IdxWithWrongMagic,
        LabelsOfOtherLength,
        MissingIdx,
        CorruptWeights,
        MissingDataFolder,
        UnknownOption,
        UnknownCommand,
        ClassifyWithoutFile,
        DigitOutOfRange,
        BadWidth,
        BadNetwork,
        OptionWithoutValue,
        DataWithoutValue,
        ClassifyTwoFiles,
        MissingWeightsFolder,
        WeightsFolderWithoutFile,
        WrongNetworksWeights,
        TrainBadLearningRate,
        TrainBadOptimizer,
        TrainZeroEpochs,
        TrainBatchTooLarge,
        TrainZeroThreads,
        TrainCorruptTrainingImages,
        TrainMissingTrainingLabels,
        TrainJsonFolderMissing,
        TrainTooManyThreads,
    }

    [TestCase(Bad.MissingImage, "missing.png: file not found")]
    [TestCase(Bad.TruncatedPng, "truncated")]
    [TestCase(Bad.PngWithBadCrc, "CRC")]
    [TestCase(Bad.NotAnImage, "unrecognised image format")]
    [TestCase(Bad.BlankImage, "no digit found")]
    [TestCase(Bad.TruncatedIdxImages, "t10k-images-idx3-ubyte.gz: ")]
    [TestCase(Bad.IdxWithWrongMagic, "not an IDX images file")]
    [TestCase(Bad.LabelsOfOtherLength, "labels for 2000 images")]
    [TestCase(Bad.MissingIdx, "t10k-labels-idx1-ubyte.gz: file not found")]
    [TestCase(Bad.CorruptWeights, "lenet5.safetensors: ")]
    [TestCase(Bad.MissingDataFolder, "data folder not found")]
    [TestCase(Bad.UnknownOption, "unknown option '--frobnicate'")]
    [TestCase(Bad.UnknownCommand, "unknown command 'frob'")]
    [TestCase(Bad.ClassifyWithoutFile, "classify needs an image file")]
    [TestCase(Bad.DigitOutOfRange, "--digit 2000 is out of range")]
    [TestCase(Bad.BadWidth, "unknown vector width '300' (expected auto, 128, 256 or 512)")]
    [TestCase(Bad.BadNetwork, "unknown network 'resnet' (expected lenet5 or mlp)")]
    [TestCase(Bad.OptionWithoutValue, "option --digit needs a value")]
    [TestCase(Bad.DataWithoutValue, "option --data needs a value")]
    [TestCase(Bad.ClassifyTwoFiles, "unexpected argument 'second.png'")]
    [TestCase(Bad.MissingWeightsFolder, "weights folder not found")]
    [TestCase(Bad.WeightsFolderWithoutFile, "lenet5.safetensors: file not found")]
    [TestCase(Bad.WrongNetworksWeights, "lenet5.safetensors: ")]
    [TestCase(Bad.TrainBadLearningRate, "option --lr needs a number in (0, 10], got 'fast'")]
    [TestCase(Bad.TrainBadOptimizer, "unknown optimizer 'rmsprop' (expected sgd, adam or adamw)")]
    [TestCase(Bad.TrainZeroEpochs, "option --epochs needs a whole number in 1..10000, got '0'")]
    [TestCase(Bad.TrainBatchTooLarge, "option --batch needs a whole number in 1..8000, got '9000'")]
    [TestCase(Bad.TrainZeroThreads, "option --threads needs a whole number in 1..256, got '0'")]
    [TestCase(Bad.TrainCorruptTrainingImages, "train-images-idx3-ubyte.gz: ")]
    [TestCase(Bad.TrainMissingTrainingLabels, "train-labels-idx1-ubyte.gz: file not found")]
    [TestCase(Bad.TrainJsonFolderMissing, "the folder for --json does not exist")]
    [TestCase(Bad.TrainTooManyThreads, "option --threads needs a whole number in 1..256, got '300'")]
    public void BadInput_GivesOneLineErrorAndExitCode1(Bad bad, string expected)
    {
        string[] args = Arrange(bad);

        var (code, _, error) = Run(args);

        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1));
            Assert.That(lines, Has.Length.EqualTo(1), error);
            Assert.That(error, Does.StartWith("error: "));
            Assert.That(error, Does.Contain(expected));
            Assert.That(error, Does.Not.Match(@"\bat [\w.<>`]+\(").And.Not.Contain("Exception"), "no stack trace or exception type");
        });
    }

    private string[] Arrange(Bad bad)
    {
        string image = Path.Combine(_dir, "image.png");
        switch (bad)
        {
            case Bad.MissingImage:
                return ["classify", Path.Combine(_dir, "missing.png")];
            case Bad.TruncatedPng:
                WriteDigitPng(image);
                File.WriteAllBytes(image, File.ReadAllBytes(image)[..60]);
                return ["classify", image];
            case Bad.PngWithBadCrc:
                WriteDigitPng(image);
                byte[] png = File.ReadAllBytes(image);
                png[^20] ^= 0x55; // inside the IDAT data, whose CRC no longer matches
                File.WriteAllBytes(image, png);
                return ["classify", image];
            case Bad.NotAnImage:
                File.WriteAllText(image, "not a picture");
                return ["classify", image];
            case Bad.BlankImage:
                new GrayImage(40, 40, Enumerable.Repeat(0.8f, 1600).ToArray()).SavePng(image);
                return ["classify", image];
            case Bad.TruncatedIdxImages:
            {
                string data = CopyData();
                string idx = Path.Combine(data, DataFolder.ImagesFile);
                File.WriteAllBytes(idx, File.ReadAllBytes(idx)[..4000]);
                return [.. Quick, "--data", data];
            }

            case Bad.IdxWithWrongMagic:
            {
                string data = CopyData();
                WriteGzip(Path.Combine(data, DataFolder.ImagesFile), [0, 0, 8, 1, 0, 0, 0, 0]);
                return ["show", "--out", Path.Combine(_dir, "out"), "--data", data];
            }

            case Bad.LabelsOfOtherLength:
            {
                string data = CopyData();
                WriteGzip(Path.Combine(data, DataFolder.LabelsFile), [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]);
                return [.. Quick, "--data", data];
            }

            case Bad.MissingIdx:
            {
                string data = CopyData();
                File.Delete(Path.Combine(data, DataFolder.LabelsFile));
                return [.. Quick, "--data", data];
            }

            case Bad.CorruptWeights:
            {
                string data = CopyData();
                string weights = Path.Combine(data, DataFolder.LeNet5Weights);
                File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..500]);
                WriteDigitPng(image);
                return ["classify", image, "--data", data];
            }

            case Bad.MissingDataFolder:
                return [.. Quick, "--data", Path.Combine(_dir, "nowhere")];
            case Bad.UnknownOption:
                return ["run", "--frobnicate"];
            case Bad.UnknownCommand:
                return ["frob"];
            case Bad.ClassifyWithoutFile:
                return ["classify"];
            case Bad.DigitOutOfRange:
                return ["show", "--digit", "2000", "--out", Path.Combine(_dir, "out")];
            case Bad.BadWidth:
                return [.. Quick, "--width", "300"];
            case Bad.BadNetwork:
                WriteDigitPng(image);
                return ["classify", image, "--net", "resnet"];
            case Bad.OptionWithoutValue:
                return ["show", "--out", Path.Combine(_dir, "out"), "--digit"];
            case Bad.DataWithoutValue:
                return ["--data"];
            case Bad.ClassifyTwoFiles:
                return ["classify", "first.png", "second.png"];
            case Bad.MissingWeightsFolder:
                return [.. Quick, "--weights", Path.Combine(_dir, "nowhere")];
            case Bad.WeightsFolderWithoutFile:
                WriteDigitPng(image);
                Directory.CreateDirectory(Path.Combine(_dir, "empty"));
                return ["classify", image, "--weights", Path.Combine(_dir, "empty")];
            case Bad.WrongNetworksWeights:
            {
                // The MLP's weights under LeNet-5's name: a tensor LeNet-5 needs is missing.
                string weights = Path.Combine(_dir, "weights");
                Directory.CreateDirectory(weights);
                File.Copy(Path.Combine(DataDir, DataFolder.MlpWeights), Path.Combine(weights, DataFolder.LeNet5Weights));
                WriteDigitPng(image);
                return ["classify", image, "--weights", weights];
            }

            case Bad.TrainBadLearningRate:
                return ["train", "--lr", "fast"];
            case Bad.TrainBadOptimizer:
                return ["train", "--optimizer", "rmsprop"];
            case Bad.TrainZeroEpochs:
                return ["train", "--epochs", "0"];
            case Bad.TrainBatchTooLarge:
                return ["train", "--batch", "9000"];
            case Bad.TrainZeroThreads:
                return ["train", "--threads", "0"];
            case Bad.TrainCorruptTrainingImages:
            {
                string data = CopyData();
                string idx = Path.Combine(data, DataFolder.TrainImagesFile);
                File.WriteAllBytes(idx, File.ReadAllBytes(idx)[..5000]);
                return ["train", "--data", data, "--out", Path.Combine(_dir, "trained")];
            }

            case Bad.TrainMissingTrainingLabels:
            {
                string data = CopyData();
                File.Delete(Path.Combine(data, DataFolder.TrainLabelsFile));
                return ["train", "--data", data, "--out", Path.Combine(_dir, "trained")];
            }

            case Bad.TrainJsonFolderMissing:
                return ["train", "--out", Path.Combine(_dir, "trained"), "--json", Path.Combine(_dir, "nowhere", "train.json")];
            case Bad.TrainTooManyThreads:
                return ["train", "--threads", "300"];
            default:
                throw new ArgumentOutOfRangeException(nameof(bad), bad, null);
        }
    }

    /// <summary>A copy of the sample's data folder in the test's temp directory, safe to damage.</summary>
    private string CopyData()
    {
        string data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(data);
        foreach (string file in Directory.GetFiles(DataDir))
        {
            string target = Path.Combine(data, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetAttributes(target, FileAttributes.Normal);
        }

        return data;
    }

    private static void WriteGzip(string path, byte[] content)
    {
        using FileStream file = File.Create(path);
        using var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest);
        gzip.Write(content);
    }

    private static void WriteDigitPng(string path)
    {
        IdxImages images = Idx.ReadImages(Path.Combine(DataDir, DataFolder.ImagesFile));
        ScaledUp(images.Image(0), scale: 4, marginX: 8, marginY: 8, invert: true).SavePng(path);
    }

    /// <summary>A 28 x 28 MNIST digit enlarged <paramref name="scale"/> times (nearest neighbour) with margins, optionally inverted.</summary>
    private static GrayImage ScaledUp(ReadOnlySpan<byte> digit, int scale, int marginX, int marginY, bool invert)
    {
        int w = 28 * scale + 2 * marginX, h = 28 * scale + 2 * marginY;
        var image = new GrayImage(w, h);
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int dx = (x - marginX) / scale, dy = (y - marginY) / scale;
                float v = x >= marginX && y >= marginY && dx < 28 && dy < 28 ? digit[dy * 28 + dx] / 255f : 0f;
                image[x, y] = invert ? 1f - v : v;
            }
        }

        return image;
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
