using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using CnnGen;

namespace Mnist;

/// <summary>
/// <c>train</c>: trains LeNet-5 and the MLP on the training digits with the trainers of an
/// <see cref="ITrainerFactory"/>, showing each epoch live; then saves the weights (loadable with
/// <c>--weights</c>), draws the loss and accuracy curves, optionally writes the JSON report, and compares the
/// trained networks as <c>run</c> does.
/// </summary>
public static class TrainCommand
{
    /// <summary>The chart's file name in the output folder.</summary>
    public const string ChartFile = "training.png";

    /// <summary>Single-digit predictions timed per network for the comparison (fewer than run's default: training came first).</summary>
    public const int ComparisonRuns = 2000;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Execute(TrainOptions options, TextWriter stdout, ITrainerFactory trainers, TrainingDisplay? display = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(trainers);

        // Everything that can be wrong with the input is found before training starts.
        DataFolder data = options.Data();
        DigitSet training = DigitSet.LoadTraining(data);
        DigitSet test = DigitSet.LoadTest(data);
        if (options.BatchSize > training.Count)
        {
            throw new UsageException($"--batch {options.BatchSize} is larger than the training set ({training.Count} digits)");
        }

        string outDir = Path.GetFullPath(options.OutDir);
        Directory.CreateDirectory(outDir);
        string? jsonPath = options.JsonPath is null ? null : Path.GetFullPath(options.JsonPath);
        if (jsonPath is not null && !Directory.Exists(Path.GetDirectoryName(jsonPath)))
        {
            throw new DirectoryNotFoundException($"{jsonPath}: the folder for --json does not exist");
        }

        // The trainers are made before anything is printed: a factory that cannot train fails first.
        var runs = new List<TrainingRun>();
        var trainersOfRuns = new List<INetworkTrainer>();
        var networks = new List<INetwork>();
        var saved = new List<string>();
        try
        {
            foreach (string key in options.Networks)
            {
                TrainSettings settings = TrainSettings.For(key, options);
                trainersOfRuns.Add(trainers.Create(settings, training));
                runs.Add(new TrainingRun(key, Model.TitleOf(key), settings, training.Count));
            }

            display ??= TrainingDisplay.For(stdout);
            stdout.WriteLine($"training on {training.Count.ToString("N0", Inv)} digits, testing on {test.Count.ToString("N0", Inv)} ({data.Path})");
            stdout.WriteLine();
            for (int i = 0; i < runs.Count; i++)
            {
                TensorSet weights = Train(trainersOfRuns[i], runs[i], test, options.LoadOptions, display);
                stdout.WriteLine();
                string path = Path.Combine(outDir, Model.WeightsFileName(runs[i].Key));
                Save(weights, path, runs[i]);
                saved.Add(path);
                networks.Add(Model.Build(runs[i].Key, weights, options.LoadOptions));
            }
        }
        finally
        {
            foreach (INetworkTrainer trainer in trainersOfRuns)
            {
                trainer.Dispose();
            }
        }

        string chart = Path.Combine(outDir, ChartFile);
        TrainingChart.Render(runs).SavePng(chart);
        stdout.WriteLine($"weights: {string.Join(", ", saved)} (use them with --weights {outDir})");
        stdout.WriteLine($"chart:   {chart} (loss and test accuracy per epoch)");
        if (jsonPath is not null)
        {
            TrainingReport.From(runs).Save(jsonPath);
            stdout.WriteLine($"json:    {jsonPath}");
        }

        if (runs.Count == 2 && runs[0].Key == "lenet5" && runs[1].Key == "mlp")
        {
            stdout.WriteLine();
            var runOptions = new Options { Runs = ComparisonRuns, WarmupMs = 200, Width = options.Width };
            RunCommand.Result cnn = RunCommand.Evaluate(Model.From("lenet5", networks[0]), test, data, runOptions);
            RunCommand.Result mlp = RunCommand.Evaluate(Model.From("mlp", networks[1]), test, data, runOptions);
            RunCommand.WriteComparison(stdout, cnn, mlp);
        }

        return 0;
    }

    /// <summary>Trains <paramref name="run"/>'s network for its epochs, measuring test accuracy after each; returns the final weights.</summary>
    public static TensorSet Train(INetworkTrainer trainer, TrainingRun run, DigitSet test, LoadOptions loadOptions, TrainingDisplay display)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(display);
        TensorSet? weights = null;
        display.Train(run, observer =>
        {
            for (int epoch = 1; epoch <= run.Settings.Epochs; epoch++)
            {
                observer.EpochStarted(epoch);
                long start = Stopwatch.GetTimestamp();
                EpochStats stats = trainer.TrainEpoch(epoch, observer.Batch);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                CheckStats(run, epoch, stats);

                weights = trainer.Weights();
                double testAccuracy = Accuracy(Model.Build(run.Key, weights, loadOptions), test);
                var record = new EpochRecord(epoch, stats.Loss, stats.TrainAccuracy, testAccuracy, seconds);
                run.Add(record);
                observer.EpochDone(record);
            }
        });

        return weights ?? throw new InvalidOperationException("training ran no epoch");
    }

    /// <summary>The fraction of <paramref name="digits"/> <paramref name="network"/> classifies right.</summary>
    public static double Accuracy(INetwork network, DigitSet digits)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(digits);
        int classes = network.OutputSize;
        var probabilities = new float[digits.Count * classes];
        network.PredictBatch(digits.Inputs, probabilities, digits.Count);
        int correct = 0;
        for (int i = 0; i < digits.Count; i++)
        {
            correct += Model.ArgMax(probabilities.AsSpan(i * classes, classes)) == digits.Labels[i] ? 1 : 0;
        }

        return (double)correct / digits.Count;
    }

    /// <summary>Writes the weights as safetensors, with the recipe in the metadata.</summary>
    public static void Save(TensorSet weights, string path, TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(run);
        var metadata = new Dictionary<string, string>
        {
            ["network"] = run.Key,
            ["trained_by"] = "CnnGen MNIST sample, train",
            ["recipe"] = TrainingDisplay.Heading(run),
            ["test_accuracy"] = run.TestAccuracy.ToString("0.0000", Inv),
        };
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        TensorSet.SaveSafeTensors(file, weights, metadata);
    }

    private static void CheckStats(TrainingRun run, int epoch, EpochStats stats)
    {
        if (!double.IsFinite(stats.Loss))
        {
            throw new InvalidDataException(
                $"{run.Title}: the training loss of epoch {epoch} is {stats.Loss.ToString(Inv)} (diverged; try a smaller --lr than {run.Settings.LearningRate.ToString(Inv)})");
        }

        if (!(stats.TrainAccuracy is >= 0 and <= 1))
        {
            throw new InvalidOperationException($"{run.Title}: the trainer reported a training accuracy of {stats.TrainAccuracy.ToString(Inv)} for epoch {epoch}");
        }
    }
}
