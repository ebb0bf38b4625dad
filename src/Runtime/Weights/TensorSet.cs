using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace CnnGen;

/// <summary>
/// A set of named tensors, typically loaded from a safetensors file. Instances are immutable.
/// <see cref="WithPrefix"/> and <see cref="Rename"/> return views over the same tensors whose
/// lookups transform the requested name; enumeration, <see cref="Count"/> and <see cref="Names"/>
/// of a view still list the stored tensors under their stored names.
/// </summary>
public sealed class TensorSet : IReadOnlyCollection<Tensor>
{
    private const int MaxNamesInMessage = 20;

    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>(StringComparer.Ordinal);

    private readonly Dictionary<string, Tensor> _tensors;
    private readonly List<Tensor> _ordered;
    private readonly Func<string, string>? _map;

    /// <summary>Creates a set from tensors with distinct names.</summary>
    /// <param name="tensors">The tensors; their order is kept for enumeration.</param>
    /// <param name="metadata">Optional string metadata (the safetensors <c>__metadata__</c>); copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tensors"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentException">Two tensors have the same name.</exception>
    public TensorSet(IEnumerable<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        _tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        _ordered = new List<Tensor>();
        foreach (Tensor tensor in tensors)
        {
            if (tensor is null)
            {
                throw new ArgumentNullException(nameof(tensors), "The tensor collection contains null.");
            }

            if (!_tensors.TryAdd(tensor.Name, tensor))
            {
                throw new ArgumentException($"Duplicate tensor name '{tensor.Name}'.", nameof(tensors));
            }

            _ordered.Add(tensor);
        }

        Metadata = metadata is null || metadata.Count == 0
            ? EmptyMetadata
            : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
    }

    /// <summary>Takes ownership of tensors with distinct names (the loader's path: the header parser checked the names).</summary>
    internal TensorSet(List<Tensor> tensors, Dictionary<string, string> metadata)
    {
        _ordered = tensors;
        _tensors = new Dictionary<string, Tensor>(tensors.Count, StringComparer.Ordinal);
        foreach (Tensor tensor in tensors)
        {
            _tensors.Add(tensor.Name, tensor);
        }

        Metadata = metadata.Count == 0 ? EmptyMetadata : metadata;
    }

    private TensorSet(TensorSet source, Func<string, string> map)
    {
        _tensors = source._tensors;
        _ordered = source._ordered;
        Metadata = source.Metadata;
        Func<string, string>? inner = source._map;
        _map = inner is null ? map : name => inner(map(name));
    }

    /// <summary>The number of stored tensors.</summary>
    public int Count => _ordered.Count;

    /// <summary>The stored tensor names, in file order.</summary>
    public IEnumerable<string> Names => _ordered.Select(t => t.Name);

    /// <summary>The string metadata (the safetensors <c>__metadata__</c> object); empty when there is none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Looks up a tensor by name (after this view's name transformation).</summary>
    /// <param name="name">The requested name.</param>
    /// <param name="tensor">The tensor (its <see cref="Tensor.Name"/> is the stored name), or <see langword="null"/> when it is missing.</param>
    /// <returns><see langword="true"/> when the tensor exists.</returns>
    /// <exception cref="WeightsException">A <see cref="Rename"/> map returned null.</exception>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _tensors.TryGetValue(Resolve(name), out tensor);
    }

    /// <summary>Gets a tensor by name (after this view's name transformation).</summary>
    /// <param name="name">The requested name.</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="WeightsException">The tensor is missing (the message lists the names the set has), or a <see cref="Rename"/> map returned null.</exception>
    public Tensor Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = Resolve(name);
        if (_tensors.TryGetValue(key, out Tensor? tensor))
        {
            return tensor;
        }

        var message = new StringBuilder();
        message.Append("tensor '").Append(key).Append('\'');
        if (!string.Equals(key, name, StringComparison.Ordinal))
        {
            message.Append(" (requested as '").Append(name).Append("')");
        }

        message.Append(" is missing; ");
        if (_ordered.Count == 0)
        {
            message.Append("the file has no tensors");
        }
        else
        {
            message.Append("the file has: ");
            message.Append(string.Join(", ", _ordered.Take(MaxNamesInMessage).Select(t => t.Name)));
            if (_ordered.Count > MaxNamesInMessage)
            {
                message.Append(", ... (").Append(_ordered.Count - MaxNamesInMessage).Append(" more)");
            }
        }

        throw new WeightsException(message.ToString(), key);
    }

    /// <summary>Returns a view in which a requested name <c>N</c> is looked up as <c>prefix + N</c>.</summary>
    /// <param name="prefix">The prefix, for example <c>features.0.</c>.</param>
    /// <returns>The view.</returns>
    public TensorSet WithPrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return new TensorSet(this, name => prefix + name);
    }

    /// <summary>Returns a view in which a requested name <c>N</c> is looked up as <c>map(N)</c> (then through this set's own transformation).</summary>
    /// <param name="map">Maps a requested name to the stored name; a lookup for which it returns null throws <see cref="WeightsException"/>.</param>
    /// <returns>The view.</returns>
    public TensorSet Rename(Func<string, string> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return new TensorSet(this, name => map(name) ?? throw new WeightsException($"the rename map returned null for '{name}'; return the name unchanged to keep it.", name));
    }

    /// <summary>Enumerates the stored tensors in file order.</summary>
    /// <returns>The enumerator.</returns>
    public IEnumerator<Tensor> GetEnumerator() => _ordered.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Loads a safetensors file.</summary>
    /// <param name="path">The file path.</param>
    /// <returns>The tensors, converted to float32.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or not a valid path.</exception>
    /// <exception cref="WeightsException">The file is not a valid safetensors file; the message starts with the path.</exception>
    /// <exception cref="IOException">
    /// The file cannot be read: it does not exist (<see cref="FileNotFoundException"/>, <see cref="DirectoryNotFoundException"/>),
    /// the path is a directory, or the read fails.
    /// </exception>
    /// <exception cref="UnauthorizedAccessException">The process may not read the file.</exception>
    public static TensorSet LoadSafeTensors(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (UnauthorizedAccessException e) when (Directory.Exists(path))
        {
            throw new IOException($"{path} is a directory; pass the path of a .safetensors file.", e);
        }

        using (stream)
        {
            try
            {
                return SafeTensors.Read(stream);
            }
            catch (WeightsException e)
            {
                throw new WeightsException($"{path}: {e.Message}", e.TensorName, e);
            }
        }
    }

    /// <summary>Loads safetensors data from a stream (seekable or not), reading from its current position to its end.</summary>
    /// <param name="stream">The stream; it is not closed.</param>
    /// <returns>The tensors, converted to float32.</returns>
    /// <exception cref="ArgumentException">The stream is not readable.</exception>
    /// <exception cref="WeightsException">The data is not valid safetensors (a stream that ends early included).</exception>
    /// <exception cref="IOException">The stream fails to read.</exception>
    public static TensorSet LoadSafeTensors(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return SafeTensors.Read(stream);
    }

    /// <summary>Loads safetensors data from memory (one conversion to float32; the bytes are not kept).</summary>
    /// <param name="bytes">The whole file.</param>
    /// <returns>The tensors, converted to float32.</returns>
    /// <exception cref="WeightsException">The data is not valid safetensors.</exception>
    public static TensorSet LoadSafeTensors(ReadOnlySpan<byte> bytes) => SafeTensors.Read(bytes);

    /// <summary>
    /// Writes tensors as a safetensors file (little-endian, tensors contiguous in the given order, JSON header padded
    /// with spaces to a multiple of 8 bytes). An I64 tensor (batch norm's <c>num_batches_tracked</c>, as a trainer saves
    /// it) is written as I64, so PyTorch's strict <c>load_state_dict</c> takes the file; every other tensor is written as
    /// F32 (PyTorch's <c>load_state_dict</c> copies F32 values into integer buffers too).
    /// </summary>
    /// <param name="stream">The destination; it is not closed.</param>
    /// <param name="tensors">The tensors; names must be distinct.</param>
    /// <param name="metadata">Optional string metadata written as <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentException">Two tensors have the same name, or a tensor is named <c>__metadata__</c>.</exception>
    /// <exception cref="IOException">The stream fails to write.</exception>
    public static void SaveSafeTensors(Stream stream, IEnumerable<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        SafeTensors.Write(stream, tensors, metadata);
    }

    private string Resolve(string name) => _map is null ? name : _map(name);
}
