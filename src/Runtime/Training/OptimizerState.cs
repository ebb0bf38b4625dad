using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace CnnGen.Training;

/// <content>Saving and loading the optimizer state (safetensors, PyTorch-like names and layouts).</content>
public abstract partial class Optimizer
{
    /// <summary>The value of the <c>format</c> metadata entry of a saved state.</summary>
    public const string StateFormat = "cnngen.optimizer.v1";

    /// <summary>The prefix of every state tensor: <c>state.&lt;parameter&gt;.&lt;buffer&gt;</c>.</summary>
    public const string StatePrefix = "state.";

    /// <summary>
    /// The state as tensors in PyTorch layouts and shapes (copies): for each parameter, in order,
    /// <c>state.&lt;name&gt;.step</c> (a float32 scalar, as PyTorch's Adam keeps it) and
    /// <c>state.&lt;name&gt;.&lt;buffer&gt;</c> for each of <see cref="BufferNames"/>.
    /// </summary>
    /// <returns>The tensors.</returns>
    public IReadOnlyList<Tensor> StateTensors()
    {
        var tensors = new List<Tensor>(_parameters.Length * (1 + _bufferNames.Length));
        for (int p = 0; p < _parameters.Length; p++)
        {
            Parameter parameter = _parameters[p];
            tensors.Add(new Tensor(StateName(parameter, "step"), Array.Empty<int>(), [(float)StepCount]));
            for (int b = 0; b < _bufferNames.Length; b++)
            {
                tensors.Add(parameter.ToTensor(StateName(parameter, _bufferNames[b]), _buffers[b][p].Span));
            }
        }

        return tensors;
    }

    /// <summary>
    /// The scalars of the state as strings (invariant culture, round-trip precision): <c>format</c>,
    /// <c>optimizer</c> (<see cref="Name"/>), <c>step</c>, <c>lr</c>, <c>initial_lr</c> and the optimizer's
    /// hyper-parameters under PyTorch's names (<c>momentum</c>, <c>dampening</c>, <c>weight_decay</c>,
    /// <c>nesterov</c>; <c>beta1</c>, <c>beta2</c>, <c>eps</c>, <c>amsgrad</c>) and <c>maximize</c> (always false).
    /// </summary>
    /// <returns>A new dictionary.</returns>
    public Dictionary<string, string> StateMetadata()
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = StateFormat,
            ["optimizer"] = Name,
            ["step"] = StepCount.ToString(CultureInfo.InvariantCulture),
            ["lr"] = Text(_learningRate),
            ["initial_lr"] = Text(InitialLearningRate),
        };
        WriteOptions(metadata);
        metadata["maximize"] = "false";
        return metadata;
    }

    /// <summary>Writes the state (<see cref="StateTensors"/> and <see cref="StateMetadata"/>) as safetensors.</summary>
    /// <param name="stream">The destination; it is not closed.</param>
    /// <param name="extraMetadata">More metadata to store (e.g. a scheduler's epoch); keys must not clash with the state's.</param>
    /// <exception cref="ArgumentException">An extra key is one the state uses.</exception>
    public void SaveState(Stream stream, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Dictionary<string, string> metadata = StateMetadata();
        if (extraMetadata is not null)
        {
            foreach (KeyValuePair<string, string> pair in extraMetadata)
            {
                if (!metadata.TryAdd(pair.Key, pair.Value))
                {
                    throw new ArgumentException($"The metadata key '{pair.Key}' belongs to the optimizer state.", nameof(extraMetadata));
                }
            }
        }

        TensorSet.SaveSafeTensors(stream, StateTensors(), metadata);
    }

    /// <summary>Writes the state to a safetensors file (see <see cref="SaveState(Stream, IReadOnlyDictionary{string, string}?)"/>).</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="extraMetadata">More metadata to store.</param>
    public void SaveState(string path, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        SaveState(stream, extraMetadata);
    }

    /// <summary>
    /// Restores a saved state: the step count, the learning rate, the initial learning rate, every
    /// hyper-parameter (as PyTorch's <c>load_state_dict</c> restores <c>param_groups</c>) and every buffer,
    /// converted to each parameter's packed layout. Everything is checked first; on any error nothing changes.
    /// Tensors whose names do not start with <c>state.</c> are ignored, so a checkpoint may hold the weights too.
    /// </summary>
    /// <param name="state">The saved state.</param>
    /// <exception cref="WeightsException">
    /// The state is for another optimizer, a metadata entry is missing or malformed, a tensor is missing, has
    /// the wrong shape, is not finite (or is a negative second moment), or a <c>state.</c> tensor names no
    /// parameter or buffer of this optimizer.
    /// </exception>
    public void LoadState(TensorSet state)
    {
        ArgumentNullException.ThrowIfNull(state);
        IReadOnlyDictionary<string, string> metadata = state.Metadata;
        string format = Require(metadata, "format");
        if (format != StateFormat)
        {
            throw new WeightsException($"the optimizer state has format '{format}'; this version reads '{StateFormat}'.");
        }

        string name = Require(metadata, "optimizer");
        if (name != Name)
        {
            throw new WeightsException($"the optimizer state was saved by {name}; this optimizer is {Name}.");
        }

        long step = ReadLong(metadata, "step");
        double learningRate = ReadDouble(metadata, "lr", 0, double.MaxValue);
        double initialLearningRate = ReadDouble(metadata, "initial_lr", 0, double.MaxValue);
        if (ReadBool(metadata, "maximize"))
        {
            throw new WeightsException("the optimizer state has maximize=true; CnnGen's optimizers only minimize.");
        }

        (string[] bufferNames, Action applyOptions) = ReadOptions(metadata);
        var expected = new HashSet<string>(StringComparer.Ordinal);
        var sources = new Tensor[bufferNames.Length, _parameters.Length];
        for (int p = 0; p < _parameters.Length; p++)
        {
            Parameter parameter = _parameters[p];
            Tensor stepTensor = state.Get(StateName(parameter, "step"));
            if (stepTensor.Shape.Length != 0 || stepTensor.Data[0] != (float)step)
            {
                throw new WeightsException(
                    string.Format(CultureInfo.InvariantCulture, "tensor '{0}' must be a scalar equal to the state's step {1}; it is {2} {3}.", stepTensor.Name, step, stepTensor.ShapeText, stepTensor.Length == 1 ? stepTensor.Data[0] : float.NaN),
                    stepTensor.Name);
            }

            expected.Add(stepTensor.Name);
            for (int b = 0; b < bufferNames.Length; b++)
            {
                Tensor tensor = state.Get(StateName(parameter, bufferNames[b]));
                parameter.CheckTensor(tensor, $"the {bufferNames[b]} of '{parameter.Name}'");
                if (bufferNames[b] is "exp_avg_sq" or "max_exp_avg_sq" && HasNegative(tensor.Data))
                {
                    throw new WeightsException($"tensor '{tensor.Name}' has a negative element; a second moment is never negative.", tensor.Name);
                }

                expected.Add(tensor.Name);
                sources[b, p] = tensor;
            }
        }

        string? unexpected = state.Names.FirstOrDefault(n => n.StartsWith(StatePrefix, StringComparison.Ordinal) && !expected.Contains(n));
        if (unexpected is not null)
        {
            throw new WeightsException(
                $"tensor '{unexpected}' is not part of this optimizer's state (each parameter has: step, {string.Join(", ", bufferNames)}).", unexpected);
        }

        AllocateBuffers(bufferNames);
        for (int p = 0; p < _parameters.Length; p++)
        {
            for (int b = 0; b < bufferNames.Length; b++)
            {
                _parameters[p].FromPyTorch(sources[b, p].Data, _buffers[b][p].Span);
            }
        }

        applyOptions();
        StepCount = step;
        _learningRate = learningRate;
        InitialLearningRate = initialLearningRate;
    }

    /// <summary>Restores a state from a safetensors file (see <see cref="LoadState(TensorSet)"/>).</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="WeightsException">The file is not valid safetensors or does not fit this optimizer.</exception>
    public void LoadState(string path) => LoadState(TensorSet.LoadSafeTensors(path));

    /// <summary>Writes the optimizer's own hyper-parameters into the metadata.</summary>
    private protected abstract void WriteOptions(Dictionary<string, string> metadata);

    /// <summary>
    /// Parses and checks the optimizer's own hyper-parameters without applying them; returns the buffer
    /// names they imply and an action that applies them.
    /// </summary>
    private protected abstract (string[] BufferNames, Action Apply) ReadOptions(IReadOnlyDictionary<string, string> metadata);

    /// <summary>
    /// Runs the optimizer's own check of hyper-parameters read from a state (<paramref name="check"/>, which throws
    /// <see cref="ArgumentException"/>s) and returns its result; a refusal becomes a <see cref="WeightsException"/> about the state.
    /// </summary>
    private protected static T CheckLoaded<T>(Func<T> check)
    {
        try
        {
            return check();
        }
        catch (ArgumentException e)
        {
            throw new WeightsException("the optimizer state's hyper-parameters are invalid: " + e.Message, e);
        }
    }

    /// <summary>Formats a double so that it parses back to the same bits.</summary>
    internal static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Formats a flag as <c>true</c> or <c>false</c>.</summary>
    internal static string Text(bool value) => value ? "true" : "false";

    /// <summary>Reads a finite double within [min, max] from the metadata.</summary>
    internal static double ReadDouble(IReadOnlyDictionary<string, string> metadata, string key, double min, double max)
    {
        string text = Require(metadata, key);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value) || value < min || value > max)
        {
            throw new WeightsException(
                string.Format(CultureInfo.InvariantCulture, "the optimizer state's '{0}' is '{1}'; expected a number in [{2}, {3}].", key, text, min, max));
        }

        return value;
    }

    /// <summary>Reads <c>true</c> or <c>false</c> from the metadata.</summary>
    internal static bool ReadBool(IReadOnlyDictionary<string, string> metadata, string key)
    {
        string text = Require(metadata, key);
        return text switch
        {
            "true" => true,
            "false" => false,
            _ => throw new WeightsException($"the optimizer state's '{key}' is '{text}'; expected true or false."),
        };
    }

    private static long ReadLong(IReadOnlyDictionary<string, string> metadata, string key)
    {
        string text = Require(metadata, key);
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
        {
            throw new WeightsException($"the optimizer state's '{key}' is '{text}'; expected a non-negative integer.");
        }

        return value;
    }

    private static string Require(IReadOnlyDictionary<string, string> metadata, string key)
    {
        if (!metadata.TryGetValue(key, out string? text))
        {
            string has = metadata.Count == 0 ? "no metadata" : "metadata " + string.Join(", ", metadata.Keys.Order(StringComparer.Ordinal));
            throw new WeightsException($"the optimizer state has no '{key}' entry (it has {has}); was it saved by Optimizer.SaveState?");
        }

        return text;
    }

    private static string StateName(Parameter parameter, string buffer) => StatePrefix + parameter.Name + "." + buffer;

    private static bool HasNegative(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            if (v < 0)
            {
                return true;
            }
        }

        return false;
    }
}
