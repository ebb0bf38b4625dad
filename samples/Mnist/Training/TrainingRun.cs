using System;
using System.Collections.Generic;

namespace Mnist;

/// <summary>One epoch's row: what <c>train</c> prints, charts and writes to JSON.</summary>
/// <param name="Epoch">From 1.</param>
/// <param name="Loss">Mean training loss of the epoch.</param>
/// <param name="TrainAccuracy">Training accuracy during the epoch, a fraction.</param>
/// <param name="TestAccuracy">Accuracy on the test digits after the epoch, a fraction.</param>
/// <param name="Seconds">Training time of the epoch (the test evaluation not included).</param>
public sealed record EpochRecord(int Epoch, double Loss, double TrainAccuracy, double TestAccuracy, double Seconds);

/// <summary>One network's training: its settings and every epoch so far.</summary>
public sealed class TrainingRun
{
    private readonly List<EpochRecord> _epochs = [];

    public TrainingRun(string key, string title, TrainSettings settings, int trainingImages)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(title);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trainingImages);
        Key = key;
        Title = title;
        Settings = settings;
        TrainingImages = trainingImages;
    }

    /// <summary>"lenet5" or "mlp".</summary>
    public string Key { get; }

    /// <summary>"LeNet-5 (CNN)" or "MLP 784-128-64-10".</summary>
    public string Title { get; }

    public TrainSettings Settings { get; }

    /// <summary>Training digits per epoch.</summary>
    public int TrainingImages { get; }

    /// <summary>Batches per epoch (the last one may be smaller).</summary>
    public int BatchesPerEpoch => (TrainingImages + Settings.BatchSize - 1) / Settings.BatchSize;

    public IReadOnlyList<EpochRecord> Epochs => _epochs;

    /// <summary>Test accuracy after the last epoch (0 before the first).</summary>
    public double TestAccuracy => _epochs.Count > 0 ? _epochs[^1].TestAccuracy : 0;

    /// <summary>Training time of all epochs, in seconds.</summary>
    public double TrainSeconds
    {
        get
        {
            double total = 0;
            foreach (EpochRecord e in _epochs)
            {
                total += e.Seconds;
            }

            return total;
        }
    }

    /// <summary>Training digits per second over all epochs.</summary>
    public double ImagesPerSecond => TrainSeconds > 0 ? (double)_epochs.Count * TrainingImages / TrainSeconds : 0;

    public void Add(EpochRecord epoch)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        if (epoch.Epoch != _epochs.Count + 1)
        {
            throw new ArgumentException($"epoch {epoch.Epoch} after {_epochs.Count} epochs", nameof(epoch));
        }

        _epochs.Add(epoch);
    }
}
