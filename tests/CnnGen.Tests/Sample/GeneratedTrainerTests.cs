using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using CnnGen.Training;
using Mnist;

namespace CnnGen.Tests.Sample;

/// <summary>
/// <c>train</c> with the trainers CnnGen generates for the sample's LeNet5 and Mlp (<see cref="TrainerFactory.Default"/>):
/// the default recipe reaches the issue's accuracies, a short run writes the issue's JSON and weights that <c>run</c>,
/// <c>classify</c> and <c>show</c> load, the seed fixes the run, and a diverging learning rate is a one-line error.
/// </summary>
[TestFixture]
public class GeneratedTrainerTests
{
    private string _dir = string.Empty;

    [SetUp]
    public void SetUp() => _dir = SampleFiles.NewTempDir();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static string DataDir => SampleFiles.DataDir;

    private static readonly Lazy<DigitSet> Training = new(() => DigitSet.LoadTraining(new DataFolder(DataDir)));

    private static (int Code, string Out, string Err) Run(params string[] args) => SampleFiles.RunSample(TrainerFactory.Default, args);

    [Test]
    public void DefaultRecipe_ReachesTheIssuesAccuracies()
    {
        string json = Path.Combine(_dir, "train.json");

        var (code, output, error) = Run("train", "--out", Path.Combine(_dir, "trained"), "--json", json);

        Assert.That(error, Is.Empty);
        Assert.That(code, Is.Zero, output);
        TrainingReport report = TrainingReport.Parse(File.ReadAllText(json));
        TestContext.Out.WriteLine(string.Join("; ", report.Networks.Select(n => $"{n.Name} {n.TestAccuracy:P2} in {n.TrainSeconds:F1} s")));
        Assert.Multiple(() =>
        {
            Assert.That(report.Networks.Select(n => (n.Name, n.Epochs, n.Batch, n.Optimizer)), Is.EqualTo(new[] { ("lenet5", 10, 64, "adam"), ("mlp", 10, 64, "sgd") }));
            Assert.That(report.Networks[0].TestAccuracy, Is.GreaterThanOrEqualTo(0.965), "LeNet-5 (PyTorch with this recipe: 97.50%)");
            Assert.That(report.Networks[1].TestAccuracy, Is.GreaterThanOrEqualTo(0.940), "MLP (PyTorch: 95.25%)");
            Assert.That(report.Networks[0].EpochsLog[^1].Loss, Is.LessThan(report.Networks[0].EpochsLog[0].Loss / 5), "LeNet-5's loss falls");
            Assert.That(report.Networks[1].EpochsLog[^1].Loss, Is.LessThan(report.Networks[1].EpochsLog[0].Loss / 5), "the MLP's loss falls");
            Assert.That(output, Does.Contain("== CNN versus fully connected =="));
        });
    }

    [Test]
    public void OneEpoch_WritesTheIssuesJson_AndWeightsThatRunClassifyAndShowLoad()
    {
        string outDir = Path.Combine(_dir, "trained"), json = Path.Combine(_dir, "train.json");

        var (code, output, error) = Run("train", "--epochs", "1", "--threads", "2", "--out", outDir, "--json", json);

        Assert.That(error, Is.Empty);
        Assert.That(code, Is.Zero, output);

        // Exactly the issue's schema: these names and no others, numbers where numbers are expected.
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.That(doc.RootElement.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "networks" }));
        var networks = doc.RootElement.GetProperty("networks").EnumerateArray().ToArray();
        Assert.That(networks.Select(n => n.GetProperty("name").GetString()), Is.EqualTo(new[] { "lenet5", "mlp" }));
        foreach (JsonElement n in networks)
        {
            Assert.That(n.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "name", "epochs", "batch", "optimizer", "test_accuracy", "train_seconds", "images_per_s", "epochs_log" }));
            JsonElement epoch = n.GetProperty("epochs_log").EnumerateArray().Single();
            Assert.That(epoch.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "epoch", "loss", "train_accuracy", "test_accuracy", "seconds" }));
            Assert.Multiple(() =>
            {
                Assert.That(n.GetProperty("epochs").GetInt32(), Is.EqualTo(1));
                Assert.That(n.GetProperty("batch").GetInt32(), Is.EqualTo(64));
                Assert.That(n.GetProperty("test_accuracy").GetDouble(), Is.InRange(0.80, 1.0), "accuracies are fractions; one epoch already learns");
                Assert.That(epoch.GetProperty("train_accuracy").GetDouble(), Is.InRange(0.5, 1.0));
                Assert.That(epoch.GetProperty("loss").GetDouble(), Is.InRange(0.05, 2.3));
                Assert.That(n.GetProperty("images_per_s").GetDouble(), Is.EqualTo(8000 / n.GetProperty("train_seconds").GetDouble()).Within(1e-6).Percent);
            });
        }

        // run --weights measures the same test accuracies on the saved files.
        var (runCode, runOutput, runError) = Run("run", "--weights", outDir, "--runs", "20", "--warmup", "0");
        Assert.Multiple(() =>
        {
            Assert.That(runError, Is.Empty);
            Assert.That(runCode, Is.Zero);
            Assert.That(runOutput, Does.Contain($"test accuracy:   {networks[0].GetProperty("test_accuracy").GetDouble() * 100:0.00}% ("));
            Assert.That(runOutput, Does.Contain($"test accuracy:   {networks[1].GetProperty("test_accuracy").GetDouble() * 100:0.00}% ("));
        });

        // show and classify load them too; show draws the trained filters, not PyTorch's.
        string pictures = Path.Combine(_dir, "pictures");
        Assert.That(Run("show", "--weights", outDir, "--out", pictures).Code, Is.Zero);
        Assert.That(File.ReadAllBytes(Path.Combine(pictures, "conv1_filters.png")), Is.Not.EqualTo(PyTorchFilters()));
        var (classifyCode, classifyOutput, classifyError) = Run("classify", Path.Combine(pictures, "digit.png"), "--net", "mlp", "--weights", outDir);
        Assert.That(classifyError, Is.Empty);
        string pytorchClassify = Run("classify", Path.Combine(pictures, "digit.png"), "--net", "mlp").Out;
        Assert.That(classifyCode, Is.Zero);
        Assert.That(classifyOutput, Does.Contain("prediction: "));
        Assert.That(Probabilities(classifyOutput), Is.Not.EqualTo(Probabilities(pytorchClassify)), "the trained MLP's answer, not PyTorch's");
    }

    [Test]
    public void SameSeed_SameWeights_OtherSeed_OtherWeights()
    {
        float[] a = TrainOneEpoch("mlp", seed: 5), b = TrainOneEpoch("mlp", seed: 5), c = TrainOneEpoch("mlp", seed: 6);

        Assert.That(a, Is.EqualTo(b), "same seed and threads: the same bits");
        Assert.That(a, Is.Not.EqualTo(c));
    }

    [Test]
    public void Trainer_FollowsTheSettings()
    {
        var settings = new TrainSettings("lenet5", 1, 32, OptimizerKind.AdamW, 2e-3, 0, 0.01, 2, 1) { Width = VectorWidth.V256 };
        using var trainer = new GeneratedTrainer(settings, Training.Value);

        Assert.Multiple(() =>
        {
            Assert.That(trainer.Trainer, Is.InstanceOf<LeNet5.Trainer>());
            Assert.That(trainer.Trainer.Threads, Is.EqualTo(2));
            Assert.That(trainer.Trainer.VectorWidth, Is.EqualTo(VectorWidth.V256));
            Optimizer optimizer = GeneratedTrainer.CreateOptimizer(settings, trainer.Trainer);
            Assert.That(optimizer, Is.InstanceOf<AdamW>());
            Assert.That(((AdamW)optimizer).Options.LearningRate, Is.EqualTo(2e-3));
            Assert.That(((AdamW)optimizer).Options.WeightDecay, Is.EqualTo(0.01));
            var sgd = (Sgd)GeneratedTrainer.CreateOptimizer(settings with { Optimizer = OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.9 }, trainer.Trainer);
            Assert.That((sgd.Options.LearningRate, sgd.Options.Momentum), Is.EqualTo((0.05, 0.9)));
        });

        // Initialised from the seed as PyTorch initialises (kaiming-uniform bound 1/sqrt(fan_in)), not loaded.
        float[] conv1 = trainer.Weights().Get("conv1.weight").Data.ToArray();
        Assert.That(conv1.Max(Math.Abs), Is.LessThanOrEqualTo(1 / MathF.Sqrt(25)).And.GreaterThan(0.15f));

        int batches = 0;
        EpochStats stats = trainer.TrainEpoch(1, p =>
        {
            batches++;
            Assert.That((p.Epoch, p.Batch, p.Batches), Is.EqualTo((1, batches, 250)));
            Assert.That(p.Images, Is.EqualTo(Math.Min(8000, batches * 32)));
        });
        Assert.That(batches, Is.EqualTo(250));
        Assert.That(stats.TrainAccuracy, Is.InRange(0.5, 1.0));
    }

    [Test]
    public void Shuffle_IsASeededPermutation_NewEachEpoch()
    {
        int[] e1 = Order(2026, 1), again = Order(2026, 1), e2 = Order(2026, 2), other = Order(7, 1);

        Assert.Multiple(() =>
        {
            Assert.That(e1.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 8000)), "a permutation");
            Assert.That(again, Is.EqualTo(e1));
            Assert.That(e2, Is.Not.EqualTo(e1));
            Assert.That(other, Is.Not.EqualTo(e1));
            Assert.That(e1.Take(100).Count(i => i < 100), Is.LessThan(10), "shuffled, not the file's order");
        });

        static int[] Order(int seed, int epoch)
        {
            var order = new int[8000];
            GeneratedTrainer.Shuffle(order, seed, epoch);
            return order;
        }
    }

    [Test]
    public void DivergingLearningRate_IsAOneLineError()
    {
        var (code, _, error) = Run("train", "--net", "mlp", "--optimizer", "sgd", "--lr", "10", "--batch", "1", "--epochs", "1", "--out", Path.Combine(_dir, "x"));

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1));
            Assert.That(error, Does.StartWith("error: MLP 784-128-64-10: training diverged in epoch 1, batch "));
            Assert.That(error.TrimEnd(), Does.EndWith("try a smaller --lr than 10"));
            Assert.That(error.Trim().Split('\n'), Has.Length.EqualTo(1));
            Assert.That(File.Exists(Path.Combine(_dir, "x", DataFolder.MlpWeights)), Is.False, "nothing saved");
        });
    }

    private static float[] TrainOneEpoch(string network, int seed)
    {
        var settings = new TrainSettings(network, 1, 64, TrainSettings.DefaultOptimizer(network), 0.05, 0.9, 0, 1, seed);
        using var trainer = new GeneratedTrainer(settings, Training.Value);
        trainer.TrainEpoch(1, _ => { });
        return trainer.Weights().SelectMany(t => t.Data.ToArray()).ToArray();
    }

    private static string[] Probabilities(string classifyOutput) =>
        classifyOutput.Split('\n').Where(l => l.Contains('%', StringComparison.Ordinal)).ToArray();

    private static byte[] PyTorchFilters()
    {
        Tensor w = TensorSet.LoadSafeTensors(Path.Combine(DataDir, DataFolder.LeNet5Weights)).Get("conv1.weight");
        return Render.Filters(w.Data, w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3], 12, 6).EncodePng();
    }
}
