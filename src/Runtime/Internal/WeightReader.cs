using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.Linq;

namespace CnnGen.Internal;

/// <summary>
/// Reads a generated network's tensors from a <see cref="TensorSet"/>: resolves keys through <see cref="LoadOptions"/>,
/// checks shapes and values, and remembers what was read (for <see cref="LoadOptions.Strict"/>). Not for direct use.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class WeightReader
{
    private readonly TensorSet _tensors;
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

    /// <summary>The options in force.</summary>
    public LoadOptions Options => _options;

    /// <summary>
    /// The data of <c>{layer}.{parameter}</c>, checked to have exactly <paramref name="shape"/> and finite values.
    /// </summary>
    /// <exception cref="WeightsException">The tensor is missing, misshapen or holds NaN/infinity.</exception>
    public float[] Read(string layer, string parameter, string description, params int[] shape)
    {
        string key = _options.KeyFor(layer, parameter);
        if (!_tensors.TryGet(key, out var tensor))
        {
            string known = string.Join(", ", _tensors.Names.Take(20)) + (_tensors.Count > 20 ? ", ..." : string.Empty);
            throw new WeightsException(string.Format(CultureInfo.InvariantCulture,
                "{0}: tensor '{1}' for {2} is missing (expected shape {3}); the weights have: {4}",
                _network, key, description, ShapeText(shape), known.Length == 0 ? "(none)" : known), key);
        }

        if (!tensor.Shape.AsSpan().SequenceEqual(shape))
        {
            throw new WeightsException(string.Format(CultureInfo.InvariantCulture,
                "{0}: tensor '{1}' for {2} has shape {3}, expected {4}",
                _network, key, description, ShapeText(tensor.Shape), ShapeText(shape)), key);
        }

        var data = tensor.Data;
        for (int i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i]))
            {
                throw new WeightsException(string.Format(CultureInfo.InvariantCulture,
                    "{0}: tensor '{1}' for {2} holds {3} at index {4}; weights must be finite",
                    _network, key, description, data[i], i), key);
            }
        }

        _read.Add(key);
        return data;
    }

    /// <summary>With <see cref="LoadOptions.Strict"/>, fails when the file holds tensors no layer read.</summary>
    public void Finish()
    {
        if (!_options.Strict)
        {
            return;
        }

        var unused = _tensors.Names.Where(n => !_read.Contains(n) && !n.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
        if (unused.Count > 0)
        {
            throw new WeightsException(string.Format(CultureInfo.InvariantCulture,
                "{0}: the weights hold {1} tensor(s) no layer reads (Strict is on): {2}",
                _network, unused.Count, string.Join(", ", unused.Take(20))), unused[0]);
        }
    }

    private static string ShapeText(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";
}
