using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.Linq;

namespace CnnGen.Internal;

/// <summary>
/// Reads a generated network's tensors from a <see cref="TensorSet"/> or, one at a time, from a safetensors file
/// (<see cref="Open"/>): resolves keys through <see cref="LoadOptions"/>, checks dtypes, shapes and values, and remembers
/// what was read (for <see cref="LoadOptions.Strict"/>). Not for direct use.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class WeightReader : IDisposable
{
    private const int NamesInMessage = 10;
    private const string CounterSuffix = "num_batches_tracked";

    private readonly TensorSet? _tensors;
    private readonly SafeTensorsFileReader? _file;
    private readonly LoadOptions _options;
    private readonly string _network;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <summary>Starts reading <paramref name="tensors"/> for <paramref name="network"/>.</summary>
    public WeightReader(TensorSet tensors, LoadOptions? options, string network)
    {
        _tensors = tensors ?? throw new ArgumentNullException(nameof(tensors));
        _options = options ?? LoadOptions.Default;
        _network = network;
    }

    private WeightReader(SafeTensorsFileReader file, LoadOptions? options, string network)
    {
        _file = file;
        _options = options ?? LoadOptions.Default;
        _network = network;
    }

    /// <summary>
    /// Opens a safetensors file and reads its header; each tensor is then read from the file when <see cref="Read"/> asks
    /// for it, and not kept, so loading never holds the whole state_dict unpacked. Dispose the reader to close the file.
    /// </summary>
    /// <exception cref="WeightsException">The file is not a valid safetensors file; the message starts with the path.</exception>
    /// <exception cref="System.IO.IOException">The file cannot be read: it does not exist, the path is a directory, or the read fails.</exception>
    /// <exception cref="UnauthorizedAccessException">The process may not read the file.</exception>
    public static WeightReader Open(string path, LoadOptions? options, string network) => new(SafeTensorsFileReader.Open(path), options, network);

    /// <summary>The options in force.</summary>
    public LoadOptions Options => _options;

    /// <summary>
    /// The data of <c>{layer}.{parameter}</c>, checked to be floating point, to have exactly <paramref name="shape"/> and to
    /// hold finite values within <see cref="LoadOptions.MaxWeightMagnitude"/>. The array is the tensor's own storage (or,
    /// read from a file, a new array): callers only read it (the generated <c>Load</c> repacks it into new arrays).
    /// </summary>
    /// <exception cref="WeightsException">The tensor is missing, an integer tensor, misshapen, or holds NaN, infinity or an absurd magnitude.</exception>
    public float[] Read(string layer, string parameter, string description, params int[] shape)
    {
        string key = _options.KeyFor(layer, parameter);
        if (!TryGet(key, out var tensor))
        {
            string known = string.Join(", ", Names.Take(20)) + (Names.Count() > 20 ? ", ..." : string.Empty);
            throw new WeightsException(Format(
                "{0}: tensor '{1}' for {2} is missing (expected shape {3}); the weights have: {4}",
                _network, key, description, ShapeText(shape), known.Length == 0 ? "(none)" : known), key);
        }

        if (tensor.DType is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16 or TensorDType.F64))
        {
            throw new WeightsException(Format(
                "{0}: tensor '{1}' for {2} has dtype {3}; a parameter must be a floating-point tensor (F32, F16, BF16 or F64)",
                _network, key, description, SafeTensorsHeader.Name(tensor.DType)), key);
        }

        if (!tensor.Shape.SequenceEqual(shape))
        {
            throw new WeightsException(Format(
                "{0}: tensor '{1}' for {2} has shape {3}, expected {4}",
                _network, key, description, tensor.ShapeText, ShapeText(shape)), key);
        }

        float[] data = tensor.Values;
        for (int i = 0; i < data.Length; i++)
        {
            // One comparison rejects NaN (false for every comparison), infinities and absurd magnitudes.
            if (!(Math.Abs(data[i]) <= LoadOptions.MaxWeightMagnitude))
            {
                string why = float.IsFinite(data[i])
                    ? Format("weights beyond +-{0:0E+0} are rejected: no trained network holds one, and it would overflow float arithmetic; is the file corrupt, or written with another dtype?", LoadOptions.MaxWeightMagnitude)
                    : "weights must be finite";
                throw new WeightsException(Format(
                    "{0}: tensor '{1}' for {2} holds {3} at index {4}; {5}",
                    _network, key, description, data[i], i, why), key);
            }
        }

        _read.Add(tensor.Name);
        return data;
    }

    /// <summary>
    /// With <see cref="LoadOptions.Strict"/> (the default), fails when the weights hold tensors that no layer read, other than
    /// batch norm's <c>num_batches_tracked</c> counters.
    /// </summary>
    /// <exception cref="WeightsException">Unused tensors; the message lists the first few, their count and how to opt out.</exception>
    public void Finish()
    {
        if (!_options.Strict)
        {
            return;
        }

        var unused = Names.Where(n => !_read.Contains(n) && !IsCounter(n)).ToList();
        if (unused.Count == 0)
        {
            return;
        }

        string listed = string.Join(", ", unused.Take(NamesInMessage))
            + (unused.Count > NamesInMessage ? Format(" and {0} more", unused.Count - NamesInMessage) : string.Empty);
        throw new WeightsException(Format(
            "{0}: the weights hold {1} tensor{2} that no layer reads: {3}. Loading is strict, as PyTorch's load_state_dict: "
            + "check the declaration for a forgotten layer or bias, or pass new LoadOptions {{ Strict = false }} to ignore unused tensors",
            _network, unused.Count, unused.Count == 1 ? string.Empty : "s", listed), unused[0]);
    }

    /// <summary>Closes the file a reader from <see cref="Open"/> reads; nothing to do for a <see cref="TensorSet"/>.</summary>
    public void Dispose() => _file?.Dispose();

    /// <summary>The stored tensor names, in file order.</summary>
    private IEnumerable<string> Names => _file is not null ? _file.Names : _tensors!.Names;

    private bool TryGet(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor tensor) =>
        _file is not null ? _file.TryRead(key, out tensor) : _tensors!.TryGet(key, out tensor);

    private static bool IsCounter(string name) =>
        name.EndsWith(CounterSuffix, StringComparison.Ordinal)
        && (name.Length == CounterSuffix.Length || name[name.Length - CounterSuffix.Length - 1] == '.');

    private static string ShapeText(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    private static string Format(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}
