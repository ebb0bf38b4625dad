using System;
using CnnGen;

namespace Mnist;

/// <summary>Where an epoch stands, reported by <see cref="INetworkTrainer.TrainEpoch"/> after every batch.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Batch">Batches done in this epoch, 1..<paramref name="Batches"/>.</param>
/// <param name="Batches">Batches in one epoch (the last may be smaller than the batch size).</param>
/// <param name="Images">Training digits done in this epoch.</param>
/// <param name="RunningLoss">The mean of the batch losses of this epoch so far.</param>
public readonly record struct BatchProgress(int Epoch, int Batch, int Batches, int Images, double RunningLoss);

/// <summary>What one epoch of training measured.</summary>
/// <param name="Loss">The mean of the epoch's batch losses (cross-entropy, each the mean over its batch).</param>
/// <param name="TrainAccuracy">
/// The fraction of the epoch's training digits the network classified right in the forward pass of their batch,
/// before that batch's optimizer step.
/// </param>
public readonly record struct EpochStats(double Loss, double TrainAccuracy);

/// <summary>
/// One network being trained. The <c>train</c> command drives it one epoch at a time and, after each epoch, builds
/// an inference network from <see cref="Weights"/> to measure test accuracy, and saves them at the end.
/// </summary>
/// <remarks>
/// An implementation owns the training state (parameters, gradients, optimizer moments, the shuffled order) and
/// follows <see cref="Settings"/>: its batch size, optimizer, learning rate, threads and seed (the seed fixes the
/// initialisation and each epoch's order, so a run can be repeated).
/// </remarks>
public interface INetworkTrainer : IDisposable
{
    /// <summary>How this network trains.</summary>
    TrainSettings Settings { get; }

    /// <summary>
    /// Trains one epoch over the training digits in a fresh shuffled order: forward, loss, backward and optimizer
    /// step per batch; calls <paramref name="progress"/> after every batch (on the calling thread).
    /// </summary>
    /// <param name="epoch">The epoch, from 1.</param>
    /// <param name="progress">Called after each batch.</param>
    EpochStats TrainEpoch(int epoch, Action<BatchProgress> progress);

    /// <summary>The current parameters under PyTorch's state_dict names (<c>conv1.weight</c>, ...), as <c>run</c> loads them.</summary>
    TensorSet Weights();
}

/// <summary>Makes the trainers <c>train</c> runs.</summary>
public interface ITrainerFactory
{
    /// <summary>
    /// A trainer for <see cref="TrainSettings.Network"/> ("lenet5" or "mlp"), initialised from
    /// <see cref="TrainSettings.Seed"/>, over <paramref name="training"/>.
    /// </summary>
    INetworkTrainer Create(TrainSettings settings, DigitSet training);
}

/// <summary>The trainers the sample ships with.</summary>
public static class TrainerFactory
{
    /// <summary>What <see cref="Program.Main"/> uses: CnnGen's generated trainers (<see cref="GeneratedTrainer"/>).</summary>
    public static ITrainerFactory Default { get; } = new GeneratedTrainerFactory();
}
