using System;
using CnnGen;
using CnnGen.Training;

namespace Mnist;

/// <summary>
/// Trains one of the sample's networks with the trainer CnnGen generated for it (<c>LeNet5.Trainer</c>,
/// <c>Mlp.Trainer</c>): PyTorch's default initialisation drawn from the seed, the epoch's digits in an order shuffled
/// from the seed, and per batch a training step (forward, cross-entropy, backward, optimizer) on the settings' threads.
/// </summary>
public sealed class GeneratedTrainer : INetworkTrainer
{
    /// <summary>The stream of <see cref="CounterRandom"/> the epochs' orders are drawn from.</summary>
    public const string ShuffleStream = "mnist.shuffle";

    private readonly NetworkTrainer _trainer;
    private readonly Optimizer _optimizer;
    private readonly DigitSet _training;
    private readonly int[] _order;
    private readonly float[] _batch;
    private readonly int[] _labels;

    /// <summary>Creates the network's trainer and optimizer; nothing is trained yet.</summary>
    /// <param name="settings">The network, recipe, threads and seed.</param>
    /// <param name="training">The training digits.</param>
    public GeneratedTrainer(TrainSettings settings, DigitSet training)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(training);
        if (settings.Threads is < 1 or > TrainerOptions.MaxThreads)
        {
            throw new UsageException($"--threads {settings.Threads}: a trainer runs on 1..{TrainerOptions.MaxThreads} threads");
        }

        Settings = settings;
        _training = training;
        var options = new TrainerOptions { Threads = settings.Threads, VectorWidth = settings.Width };
        ulong seed = (ulong)settings.Seed;
        _trainer = settings.Network switch
        {
            "lenet5" => LeNet5.Trainer.Create(seed, options),
            "mlp" => Mlp.Trainer.Create(seed, options),
            _ => throw new UsageException($"unknown network '{settings.Network}' (expected lenet5 or mlp)"),
        };
        _optimizer = CreateOptimizer(settings, _trainer);
        _order = new int[training.Count];
        _batch = new float[settings.BatchSize * DigitSet.Pixels];
        _labels = new int[settings.BatchSize];
    }

    public TrainSettings Settings { get; }

    /// <summary>The generated trainer (its parameters, vector width, threads).</summary>
    public NetworkTrainer Trainer => _trainer;

    /// <summary>The optimizer of <see cref="TrainSettings.Optimizer"/> over the trainer's parameters, PyTorch's formulas.</summary>
    public static Optimizer CreateOptimizer(TrainSettings settings, ITrainer trainer)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(trainer);
        return settings.Optimizer switch
        {
            OptimizerKind.Sgd => new Sgd(trainer.Parameters, new SgdOptions { LearningRate = settings.LearningRate, Momentum = settings.Momentum }),
            OptimizerKind.Adam => new Adam(trainer.Parameters, new AdamOptions { LearningRate = settings.LearningRate }),
            OptimizerKind.AdamW => new AdamW(trainer.Parameters, new AdamWOptions { LearningRate = settings.LearningRate, WeightDecay = settings.WeightDecay }),
            _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Optimizer, null),
        };
    }

    /// <summary>
    /// The order of the digits in <paramref name="epoch"/>: a Fisher-Yates shuffle of 0..count-1 whose draws come from
    /// <c>CounterRandom(seed, "mnist.shuffle").Substream(epoch)</c>, so every machine and thread count gets the same order.
    /// </summary>
    public static void Shuffle(Span<int> order, int seed, int epoch)
    {
        CounterRandom random = new CounterRandom((ulong)seed, ShuffleStream).Substream((ulong)epoch);
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(random.NextDouble(i) * (i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    public EpochStats TrainEpoch(int epoch, Action<BatchProgress> progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        Shuffle(_order, Settings.Seed, epoch);
        int count = _training.Count, size = Settings.BatchSize;
        int batches = (count + size - 1) / size;
        double lossSum = 0;
        int correct = 0;
        for (int b = 0; b < batches; b++)
        {
            int first = b * size, n = Math.Min(size, count - first);
            for (int i = 0; i < n; i++)
            {
                int digit = _order[first + i];
                _training.Input(digit).CopyTo(_batch.AsSpan(i * DigitSet.Pixels, DigitSet.Pixels));
                _labels[i] = _training.Labels[digit];
            }

            StepResult step;
            try
            {
                step = _trainer.Step(_batch.AsMemory(0, n * DigitSet.Pixels), _labels.AsMemory(0, n), n, _optimizer);
            }
            catch (TrainingDivergedException e)
            {
                throw new UsageException(
                    $"{Model.TitleOf(Settings.Network)}: training diverged in epoch {epoch}, batch {b + 1} ({e.Message.TrimEnd('.')}); try a smaller --lr than {Settings.LearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
                    e);
            }

            lossSum += step.Loss;
            correct += step.Correct;
            progress(new BatchProgress(epoch, b + 1, batches, first + n, lossSum / (b + 1)));
        }

        return new EpochStats(lossSum / batches, (double)correct / count);
    }

    public TensorSet Weights() => _trainer.ToTensorSet();

    public void Dispose() => _trainer.Dispose();
}

/// <summary>Makes <see cref="GeneratedTrainer"/>s.</summary>
public sealed class GeneratedTrainerFactory : ITrainerFactory
{
    public INetworkTrainer Create(TrainSettings settings, DigitSet training) => new GeneratedTrainer(settings, training);
}
