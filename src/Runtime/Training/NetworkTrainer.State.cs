using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Linq;
using CnnGen.Internal;

namespace CnnGen.Training;

/// <content>Saving and loading weights, running statistics and checkpoints.</content>
public abstract partial class NetworkTrainer
{
    private const string CheckpointNetwork = "cnngen.trainer.network";
    private const string CheckpointStep = "cnngen.trainer.step";
    private const string CheckpointSeed = "cnngen.trainer.seed";
    private Optimizer? _checkedOptimizer;

    /// <summary>
    /// The weights and batch-norm running statistics with PyTorch's <c>state_dict</c> names, shapes and order
    /// (<c>num_batches_tracked</c> as an I64 scalar): loadable by the network's <c>Load</c>, by the trainer's <c>Load</c>
    /// and by PyTorch's strict <c>load_state_dict</c>.
    /// </summary>
    /// <returns>A new set (copies).</returns>
    public TensorSet ToTensorSet() => new(StateTensors());

    /// <summary>Writes <see cref="ToTensorSet"/> to a safetensors file.</summary>
    /// <param name="path">The file (created or overwritten).</param>
    public void Save(string path)
    {
        using FileStream stream = File.Create(path);
        Save(stream);
    }

    /// <summary>Writes <see cref="ToTensorSet"/> as safetensors.</summary>
    /// <param name="stream">The destination; it is not closed.</param>
    public void Save(Stream stream) => TensorSet.SaveSafeTensors(stream, StateTensors());

    /// <summary>
    /// Writes a checkpoint: the weights and running statistics (<see cref="ToTensorSet"/>), the optimizer's state
    /// (<see cref="Optimizer.StateTensors"/> and its metadata), <see cref="StepCount"/> and <see cref="Seed"/>. Restoring it
    /// with <see cref="LoadCheckpoint(string, Optimizer)"/> continues exactly: the same thread count gives the same bits as
    /// an uninterrupted run.
    /// </summary>
    /// <param name="path">The file (created or overwritten).</param>
    /// <param name="optimizer">The optimizer over <see cref="Parameters"/>.</param>
    /// <exception cref="ArgumentException">The optimizer updates other parameters.</exception>
    public void SaveCheckpoint(string path, Optimizer optimizer)
    {
        CheckOptimizer(optimizer);
        using FileStream stream = File.Create(path);
        SaveCheckpoint(stream, optimizer);
    }

    /// <summary>Writes a checkpoint as safetensors (see <see cref="SaveCheckpoint(string, Optimizer)"/>).</summary>
    /// <param name="stream">The destination; it is not closed.</param>
    /// <param name="optimizer">The optimizer over <see cref="Parameters"/>.</param>
    /// <exception cref="ArgumentException">The optimizer updates other parameters.</exception>
    public void SaveCheckpoint(Stream stream, Optimizer optimizer)
    {
        CheckOptimizer(optimizer);
        Dictionary<string, string> metadata = optimizer.StateMetadata();
        metadata[CheckpointNetwork] = Network;
        metadata[CheckpointStep] = StepCount.ToString(CultureInfo.InvariantCulture);
        metadata[CheckpointSeed] = Seed.ToString(CultureInfo.InvariantCulture);
        TensorSet.SaveSafeTensors(stream, StateTensors().Concat(optimizer.StateTensors()), metadata);
    }

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint(string, Optimizer)"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="optimizer">The optimizer over <see cref="Parameters"/> (of the kind that was saved).</param>
    /// <exception cref="WeightsException">The file does not hold this network's and this optimizer's state; nothing changed.</exception>
    public void LoadCheckpoint(string path, Optimizer optimizer) => LoadCheckpoint(TensorSet.LoadSafeTensors(path), optimizer);

    /// <summary>
    /// Restores a checkpoint: weights, running statistics, the optimizer's state, <see cref="StepCount"/> and <see cref="Seed"/>.
    /// Everything is checked before anything changes.
    /// </summary>
    /// <param name="checkpoint">The checkpoint's tensors and metadata.</param>
    /// <param name="optimizer">The optimizer over <see cref="Parameters"/> (of the kind that was saved).</param>
    /// <exception cref="WeightsException">The set does not hold this network's and this optimizer's state; nothing changed.</exception>
    /// <exception cref="ArgumentException">The optimizer updates other parameters.</exception>
    public void LoadCheckpoint(TensorSet checkpoint, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        CheckOptimizer(optimizer);
        IReadOnlyDictionary<string, string> metadata = checkpoint.Metadata;
        if (!metadata.TryGetValue(CheckpointNetwork, out string? network) || network != Network)
        {
            throw new WeightsException($"{Network}: this is not a checkpoint of {Network} (its '{CheckpointNetwork}' is '{network ?? "missing"}').");
        }

        if (!metadata.TryGetValue(CheckpointStep, out string? stepText) || !long.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out long step)
            || !metadata.TryGetValue(CheckpointSeed, out string? seedText) || !ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
        {
            throw new WeightsException($"{Network}: the checkpoint's '{CheckpointStep}' or '{CheckpointSeed}' is missing or malformed.");
        }

        Action apply = Stage(checkpoint, checkpoint: true);
        optimizer.LoadState(checkpoint); // checks everything before it changes anything
        apply();
        StepCount = step;
        Seed = seed;
        _backwardReady = false;
    }

    /// <summary>
    /// Sets the weights and running statistics from PyTorch tensors (a <c>state_dict</c>): strict, as PyTorch's
    /// <c>load_state_dict</c>: every parameter and running statistic must be there with its shape and finite values
    /// (<c>num_batches_tracked</c> is optional), and nothing else may be. Everything is checked before anything changes.
    /// </summary>
    /// <param name="tensors">The tensors.</param>
    /// <exception cref="WeightsException">A tensor is missing, misshapen, not finite, or unknown; nothing changed.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected void LoadState(TensorSet tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Stage(tensors, checkpoint: false)();
        _backwardReady = false;
    }

    private IEnumerable<Tensor> StateTensors()
    {
        foreach (StateEntry entry in _state)
        {
            if (entry.Parameter is { } parameter)
            {
                yield return parameter.ValueTensor();
                continue;
            }

            BatchNormTraining bn = entry.BatchNorm!;
            yield return new Tensor(bn.Name + ".running_mean", new[] { bn.Channels }, bn.RunningMean);
            yield return new Tensor(bn.Name + ".running_var", new[] { bn.Channels }, bn.RunningVariance);
            yield return new Tensor(bn.Name + ".num_batches_tracked", Array.Empty<int>(), new float[] { bn.BatchesTracked }, TensorDType.I64);
        }
    }

    /// <summary>Checks every tensor the state needs; returns the action that sets them (nothing changes before it runs).</summary>
    private Action Stage(TensorSet tensors, bool checkpoint)
    {
        var read = new HashSet<string>(StringComparer.Ordinal);
        var apply = new List<Action>();
        foreach (StateEntry entry in _state)
        {
            if (entry.Parameter is { } parameter)
            {
                Tensor tensor = Require(tensors, parameter.Name, read);
                parameter.CheckTensor(tensor, $"{Network}'s '{parameter.Name}'");
                CheckMagnitude(tensor);
                apply.Add(() => parameter.SetValue(tensor));
                continue;
            }

            BatchNormTraining bn = entry.BatchNorm!;
            Tensor mean = RequireVector(tensors, bn.Name + ".running_mean", bn.Channels, read);
            Tensor variance = RequireVector(tensors, bn.Name + ".running_var", bn.Channels, read);
            if (variance.Data.IndexOfAnyExceptInRange(0f, float.MaxValue) >= 0)
            {
                throw new WeightsException($"{Network}: tensor '{variance.Name}' has a negative element; a variance is never negative.", variance.Name);
            }

            long tracked = 0;
            if (tensors.TryGet(bn.Name + ".num_batches_tracked", out Tensor? counter))
            {
                read.Add(counter.Name);
                if (counter.Length != 1 || counter.Data[0] < 0 || counter.Data[0] != MathF.Floor(counter.Data[0]))
                {
                    throw new WeightsException($"{Network}: tensor '{counter.Name}' must be one non-negative integer.", counter.Name);
                }

                tracked = (long)counter.Data[0];
            }

            apply.Add(() => bn.SetRunning(mean.Data, variance.Data, tracked));
        }

        var unknown = tensors.Names.Where(n => !read.Contains(n) && !(checkpoint && n.StartsWith(Optimizer.StatePrefix, StringComparison.Ordinal))).ToList();
        if (unknown.Count > 0)
        {
            throw new WeightsException(
                $"{Network}: the weights hold {unknown.Count} tensor{(unknown.Count == 1 ? string.Empty : "s")} the trainer does not have: {string.Join(", ", unknown.Take(10))}{(unknown.Count > 10 ? ", ..." : string.Empty)}. Loading is strict, as PyTorch's load_state_dict.",
                unknown[0]);
        }

        return () =>
        {
            foreach (Action a in apply)
            {
                a();
            }
        };
    }

    private Tensor Require(TensorSet tensors, string name, HashSet<string> read)
    {
        if (!tensors.TryGet(name, out Tensor? tensor))
        {
            throw new WeightsException($"{Network}: tensor '{name}' is missing.", name);
        }

        if (tensor.DType is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16 or TensorDType.F64))
        {
            throw new WeightsException($"{Network}: tensor '{name}' has dtype {tensor.DType}; it must be floating point.", name);
        }

        read.Add(name);
        return tensor;
    }

    private Tensor RequireVector(TensorSet tensors, string name, int length, HashSet<string> read)
    {
        Tensor tensor = Require(tensors, name, read);
        if (tensor.Shape.Length != 1 || tensor.Shape[0] != length)
        {
            throw new WeightsException($"{Network}: tensor '{name}' has shape {tensor.ShapeText}, expected [{length}].", name);
        }

        CheckMagnitude(tensor);
        return tensor;
    }

    private void CheckMagnitude(Tensor tensor)
    {
        ReadOnlySpan<float> data = tensor.Data;
        for (int i = 0; i < data.Length; i++)
        {
            if (!(Math.Abs(data[i]) <= LoadOptions.MaxWeightMagnitude))
            {
                throw new WeightsException(string.Format(CultureInfo.InvariantCulture, "{0}: tensor '{1}' holds {2} at index {3}; values must be finite and within +-{4:0E+0}.", Network, tensor.Name, data[i], i, LoadOptions.MaxWeightMagnitude), tensor.Name);
            }
        }
    }

    /// <summary>An optimizer must update exactly these parameters (checked once per optimizer).</summary>
    private void CheckOptimizer(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (ReferenceEquals(optimizer, _checkedOptimizer))
        {
            return;
        }

        var mine = new HashSet<Parameter>(_parameters, ReferenceEqualityComparer.Instance);
        if (optimizer.Parameters.Count != _parameters.Count || !optimizer.Parameters.All(mine.Contains))
        {
            throw new ArgumentException($"The optimizer does not update {Network}'s trainer parameters; create it over trainer.Parameters.", nameof(optimizer));
        }

        _checkedOptimizer = optimizer;
    }
}
