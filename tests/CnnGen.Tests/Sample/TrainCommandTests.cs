using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Mnist;

namespace CnnGen.Tests.Sample;

/// <summary>
/// <c>train</c> end to end around a scripted trainer (fast and fully predictable; GeneratedTrainerTests trains for real): options reach the
/// trainer, every epoch is shown and evaluated for real, the weights, chart and JSON are written, and the written
/// weights work with <c>run</c>, <c>classify</c> and <c>show --weights</c>.
/// </summary>
[TestFixture]
public class TrainCommandTests
{
    private string _dir = string.Empty;

    [SetUp]
    public void SetUp() => _dir = SampleFiles.NewTempDir();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static string DataDir => SampleFiles.DataDir;

    private static (int Code, string Out, string Err) Run(ITrainerFactory trainers, params string[] args) => SampleFiles.RunSample(trainers, args);

    [Test]
    public void Train_Defaults_TrainBothNetworksWithTheirRecipes_AndWriteEverything()
    {
        var trainers = new ScriptedTrainerFactory(DataDir);
        string outDir = Path.Combine(_dir, "trained"), json = Path.Combine(_dir, "train.json");

        var (code, output, error) = Run(trainers, "train", "--epochs", "3", "--out", outDir, "--json", json);

        Assert.That(error, Is.Empty);
        Assert.That(code, Is.Zero, output);
        Assert.That(trainers.Created, Has.Count.EqualTo(2));
        TrainSettings lenet = trainers.Created[0].Settings, mlp = trainers.Created[1].Settings;
        Assert.Multiple(() =>
        {
            Assert.That(lenet, Is.EqualTo(new TrainSettings("lenet5", 3, 64, OptimizerKind.Adam, 1e-3, 0, 0, Environment.ProcessorCount, 2026)));
            Assert.That(mlp, Is.EqualTo(new TrainSettings("mlp", 3, 64, OptimizerKind.Sgd, 0.05, 0.9, 0, Environment.ProcessorCount, 2026)));
            Assert.That(trainers.Created.All(t => t.Disposed), "trainers disposed");

            // The plain display (output is not a terminal): headings, columns, quarter-epoch progress, one row per epoch.
            Assert.That(output, Does.Contain("training on 8,000 digits, testing on 2,000"));
            Assert.That(output, Does.Contain($"LeNet-5 (CNN): adam, lr 0.001; 3 epochs of 125 batches of 64 (8,000 digits), {Environment.ProcessorCount} thread"));
            Assert.That(output, Does.Contain("MLP 784-128-64-10: sgd, lr 0.05, momentum 0.9; 3 epochs"));
            Assert.That(CountLines(output, l => l.StartsWith("  epoch      loss  train acc", StringComparison.Ordinal)), Is.EqualTo(2));
            Assert.That(CountLines(output, l => l.StartsWith("  ... epoch ", StringComparison.Ordinal)), Is.EqualTo(2 * 3 * 3));
            Assert.That(output, Does.Contain("  ... epoch 2/3: 32/125 batches, loss "));
            Assert.That(output, Does.Contain("weights: ").And.Contain("chart:   ").And.Contain("json:    " + json));

            // The comparison of the trained networks: no agreement row, their weights are not PyTorch's.
            Assert.That(output, Does.Contain("== CNN versus fully connected =="));
            Assert.That(output, Does.Not.Contain("agrees with PyTorch"));
        });

        // The JSON holds what was shown; the accuracies are real evaluations of the trainer's weights.
        TrainingReport report = TrainingReport.Parse(File.ReadAllText(json));
        Assert.That(report.Networks.Select(n => n.Name), Is.EqualTo(new[] { "lenet5", "mlp" }));
        foreach (NetworkReport n in report.Networks)
        {
            Assert.Multiple(() =>
            {
                Assert.That(n.Epochs, Is.EqualTo(3));
                Assert.That(n.Batch, Is.EqualTo(64));
                Assert.That(n.EpochsLog.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
                Assert.That(n.EpochsLog[0].Loss, Is.EqualTo(Enumerable.Range(1, 125).Average(b => ScriptedTrainer.BatchLoss(1, b, 125))).Within(1e-12));
                Assert.That(n.EpochsLog.Select(e => e.TrainAccuracy), Is.EqualTo(new[] { 0.64, 0.68, 0.72 }).Within(1e-12));
                Assert.That(n.EpochsLog[2].TestAccuracy, Is.EqualTo(n.TestAccuracy));
                Assert.That(n.EpochsLog[0].TestAccuracy, Is.LessThan(n.EpochsLog[2].TestAccuracy), "less noise, better accuracy");
                Assert.That(n.TestAccuracy, Is.InRange(0.85, 0.98));
                Assert.That(n.TrainSeconds, Is.EqualTo(n.EpochsLog.Sum(e => e.Seconds)).Within(1e-9));
                Assert.That(n.ImagesPerSecond, Is.EqualTo(3 * 8000 / n.TrainSeconds).Within(1e-6 * n.ImagesPerSecond));
                Assert.That(output, Does.Contain($"{n.EpochsLog[2].TestAccuracy * 100:0.00}%"));
            });
        }

        Assert.That(report.Networks[0].Optimizer, Is.EqualTo("adam"));
        Assert.That(report.Networks[1].Optimizer, Is.EqualTo("sgd"));

        // The chart decodes, and `run --weights` reproduces the final test accuracies from the saved files.
        GrayImage chart = Png.Load(Path.Combine(outDir, TrainCommand.ChartFile));
        Assert.That((chart.Width, chart.Height), Is.EqualTo((TrainingChart.Width, TrainingChart.Height)));
        var (runCode, runOutput, runError) = Run(TrainerFactory.Default, "run", "--weights", outDir, "--runs", "20", "--warmup", "0");
        Assert.Multiple(() =>
        {
            Assert.That(runError, Is.Empty);
            Assert.That(runCode, Is.Zero);
            Assert.That(runOutput, Does.Contain($"weights:   {outDir} (not PyTorch's"));
            Assert.That(runOutput, Does.Contain($"test accuracy:   {report.Networks[0].TestAccuracy * 100:0.00}% ("));
            Assert.That(runOutput, Does.Contain($"test accuracy:   {report.Networks[1].TestAccuracy * 100:0.00}% ("));
            Assert.That(runOutput, Does.Not.Contain("agrees with PyTorch").And.Not.Contain("; PyTorch:"));
        });
        TensorSet saved = TensorSet.LoadSafeTensors(Path.Combine(outDir, DataFolder.LeNet5Weights));
        Assert.That(saved.Metadata["network"], Is.EqualTo("lenet5"));
    }

    [Test]
    public void Train_OptionsOverrideTheRecipe()
    {
        var trainers = new ScriptedTrainerFactory(DataDir);
        string outDir = Path.Combine(_dir, "mlp-only");

        var (code, output, error) = Run(
            trainers,
            "train", "--net", "mlp", "--epochs", "1", "--batch", "100", "--lr", "0.002", "--optimizer", "adamw",
            "--threads", "1", "--seed", "7", "--out", outDir);

        Assert.Multiple(() =>
        {
            Assert.That(error, Is.Empty);
            Assert.That(code, Is.Zero);
            Assert.That(trainers.Created.Single().Settings, Is.EqualTo(new TrainSettings("mlp", 1, 100, OptimizerKind.AdamW, 0.002, 0, 0.01, 1, 7)));
            Assert.That(output, Does.Contain("MLP 784-128-64-10: adamw, lr 0.002, weight decay 0.01; 1 epoch of 80 batches of 100 (8,000 digits), 1 thread, seed 7"));
            Assert.That(File.Exists(Path.Combine(outDir, DataFolder.MlpWeights)));
            Assert.That(File.Exists(Path.Combine(outDir, DataFolder.LeNet5Weights)), Is.False);
            Assert.That(output, Does.Not.Contain("CNN versus fully connected"), "one network: nothing to compare");
        });
    }

    [Test]
    public void Show_WithTrainedWeights_DrawsTheirFilters()
    {
        var trainers = new ScriptedTrainerFactory(DataDir);
        string outDir = Path.Combine(_dir, "trained"), pictures = Path.Combine(_dir, "pictures");
        Assert.That(Run(trainers, "train", "--net", "lenet5", "--epochs", "1", "--out", outDir).Code, Is.Zero);

        var (code, output, error) = Run(TrainerFactory.Default, "show", "--weights", outDir, "--out", pictures);

        Assert.That(error, Is.Empty);
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain(Path.Combine(outDir, DataFolder.LeNet5Weights)));
        TensorSet trained = TensorSet.LoadSafeTensors(Path.Combine(outDir, DataFolder.LeNet5Weights));
        TensorSet pytorch = TensorSet.LoadSafeTensors(Path.Combine(DataDir, DataFolder.LeNet5Weights));
        foreach (var (file, name, scale, columns) in new[] { ("conv1_filters.png", "conv1.weight", 12, 6), ("conv2_filters.png", "conv2.weight", 5, 4) })
        {
            byte[] drawn = File.ReadAllBytes(Path.Combine(pictures, file));
            Assert.That(drawn, Is.EqualTo(Filters(trained.Get(name), scale, columns)), file + " shows the trained filters");
            Assert.That(drawn, Is.Not.EqualTo(Filters(pytorch.Get(name), scale, columns)), file + " is not PyTorch's");
        }
    }

    [Test]
    public void Train_DivergingLoss_IsAOneLineError()
    {
        var (code, _, error) = Run(new DivergingFactory(), "train", "--net", "lenet5", "--epochs", "2", "--out", Path.Combine(_dir, "x"));

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1));
            Assert.That(error.TrimEnd(), Does.StartWith("error: LeNet-5 (CNN): the training loss of epoch 1 is NaN (diverged; try a smaller --lr than 0.001)"));
            Assert.That(error.Trim().Split('\n'), Has.Length.EqualTo(1));
        });
    }

    [Test]
    public void TrainHelp_ListsEveryOption()
    {
        var (code, output, _) = Run(TrainerFactory.Default, "train", "--help");

        Assert.That(code, Is.Zero);
        foreach (string option in new[] { "--net", "--epochs", "--batch", "--lr", "--optimizer", "--threads", "--seed", "--out", "--json", "--data", "--width" })
        {
            Assert.That(output, Does.Contain(option + " <"), option);
        }
    }

    private static byte[] Filters(Tensor w, int scale, int columns) =>
        Render.Filters(w.Data, w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3], scale, columns).EncodePng();

    private static int CountLines(string text, Func<string, bool> match) => text.Split('\n').Count(l => match(l.TrimEnd('\r')));

    private sealed class DivergingFactory : ITrainerFactory
    {
        public INetworkTrainer Create(TrainSettings settings, DigitSet training) => new Diverging(settings);

        private sealed class Diverging(TrainSettings settings) : INetworkTrainer
        {
            public TrainSettings Settings => settings;

            public EpochStats TrainEpoch(int epoch, Action<BatchProgress> progress)
            {
                progress(new BatchProgress(epoch, 1, 1, 8000, double.NaN));
                return new EpochStats(double.NaN, 0.1);
            }

            public TensorSet Weights() => throw new InvalidOperationException("not reached");

            public void Dispose()
            {
            }
        }
    }
}
