using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Mnist;

namespace CnnGen.Tests.Sample;

/// <summary>
/// A stand-in for the generated trainer, for testing what <c>train</c> builds around it: it reports every batch of
/// every epoch with a falling loss, and its weights are PyTorch's trained ones disturbed by seeded noise that shrinks
/// epoch by epoch, so the test accuracy the command measures on them is real and rises.
/// </summary>
internal sealed class ScriptedTrainer : INetworkTrainer
{
    private readonly DigitSet _training;
    private readonly TensorSet _trained;
    private int _epoch;

    public ScriptedTrainer(TrainSettings settings, DigitSet training, TensorSet trained)
    {
        Settings = settings;
        _training = training;
        _trained = trained;
    }

    public TrainSettings Settings { get; }

    public bool Disposed { get; private set; }

    /// <summary>The loss batch <paramref name="batch"/> of <paramref name="batches"/> reports in <paramref name="epoch"/>.</summary>
    public static double BatchLoss(int epoch, int batch, int batches) => 2.0 / epoch + 0.5 * (batches - batch) / batches / epoch;

    public EpochStats TrainEpoch(int epoch, Action<BatchProgress> progress)
    {
        Assert.That(epoch, Is.EqualTo(_epoch + 1), "epochs in order");
        int batches = (_training.Count + Settings.BatchSize - 1) / Settings.BatchSize;
        double sum = 0;
        for (int b = 1; b <= batches; b++)
        {
            sum += BatchLoss(epoch, b, batches);
            progress(new BatchProgress(epoch, b, batches, Math.Min(b * Settings.BatchSize, _training.Count), sum / b));
        }

        _epoch = epoch;
        return new EpochStats(sum / batches, Math.Min(1.0, 0.6 + 0.04 * epoch));
    }

    public TensorSet Weights()
    {
        var rng = new Random(Settings.Seed + _epoch);
        float sigma = 0.4f / (_epoch * _epoch);
        return new TensorSet(_trained.Select(t => new Tensor(
            t.Name, t.Shape.ToArray(), t.Data.ToArray().Select(v => v + sigma * (float)(rng.NextDouble() * 2 - 1)).ToArray())));
    }

    public void Dispose() => Disposed = true;
}

/// <summary>Makes <see cref="ScriptedTrainer"/>s from the sample's PyTorch weights and remembers them.</summary>
internal sealed class ScriptedTrainerFactory(string dataDir) : ITrainerFactory
{
    public List<ScriptedTrainer> Created { get; } = [];

    public INetworkTrainer Create(TrainSettings settings, DigitSet training)
    {
        var trainer = new ScriptedTrainer(settings, training, TensorSet.LoadSafeTensors(Path.Combine(dataDir, Model.WeightsFileName(settings.Network))));
        Created.Add(trainer);
        return trainer;
    }
}

/// <summary>A clock that moves only when told to.</summary>
internal sealed class ManualTime : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks;

    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}
