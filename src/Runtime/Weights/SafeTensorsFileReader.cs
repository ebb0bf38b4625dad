using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CnnGen;

/// <summary>
/// A safetensors file opened to read one tensor at a time: the header is read and checked when the file opens (the
/// same checks as <see cref="TensorSet.LoadSafeTensors(string)"/>: bounds, overlaps, dtypes, shapes), and each tensor's
/// bytes are read and converted to float32 when it is asked for, then left to the caller. A generated network's
/// <c>Load(path)</c> reads through it, so the unpacked state_dict is never in memory all at once: the peak is the packed
/// weights plus one layer's tensors.
/// </summary>
internal sealed class SafeTensorsFileReader : IDisposable
{
    private const int ChunkBytes = 1 << 20;

    private readonly SafeFileHandle _handle;
    private readonly string _path;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorsHeader.Entry> _entries;

    private SafeTensorsFileReader(SafeFileHandle handle, string path, long dataStart, List<SafeTensorsHeader.Entry> entries)
    {
        _handle = handle;
        _path = path;
        _dataStart = dataStart;
        _entries = new Dictionary<string, SafeTensorsHeader.Entry>(entries.Count, StringComparer.Ordinal);
        var names = new string[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            _entries.Add(entries[i].Name, entries[i]);
            names[i] = entries[i].Name;
        }

        Names = names;
    }

    /// <summary>The tensor names, in file order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Opens <paramref name="path"/> and checks its header.</summary>
    /// <exception cref="WeightsException">The file is not a valid safetensors file; the message starts with the path.</exception>
    /// <exception cref="IOException">The file cannot be read: it does not exist, the path is a directory, or the read fails.</exception>
    /// <exception cref="UnauthorizedAccessException">The process may not read the file.</exception>
    public static SafeTensorsFileReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        }
        catch (UnauthorizedAccessException e) when (Directory.Exists(path))
        {
            throw new IOException($"{path} is a directory; pass the path of a .safetensors file.", e);
        }

        try
        {
            long length = RandomAccess.GetLength(handle);
            if (length < 8)
            {
                throw new WeightsException($"safetensors data is {length} bytes long; at least 8 are needed for the header length.");
            }

            Span<byte> prefix = stackalloc byte[8];
            ReadExactly(handle, prefix, 0, "header length");
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            SafeTensors.CheckHeaderLength(headerLength, length - 8);
            byte[] header = new byte[(int)headerLength];
            ReadExactly(handle, header, 8, "header");
            var entries = SafeTensors.Entries(header, length - 8 - (long)headerLength, new Dictionary<string, string>(StringComparer.Ordinal));
            return new SafeTensorsFileReader(handle, path, 8 + (long)headerLength, entries);
        }
        catch (WeightsException e)
        {
            handle.Dispose();
            throw new WeightsException($"{path}: {e.Message}", e.TensorName, e);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads tensor <paramref name="name"/> (converted to float32, a new array), or returns false when the file has none.</summary>
    /// <exception cref="WeightsException">The file changed since it was opened (it ended early), or an element is invalid for its dtype.</exception>
    public bool TryRead(string name, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor tensor)
    {
        if (!_entries.TryGetValue(name, out var entry))
        {
            tensor = null;
            return false;
        }

        float[] values = entry.Elements == 0 ? Array.Empty<float>() : new float[entry.Elements];
        long offset = _dataStart + entry.Begin;
        long bytes = entry.End - entry.Begin;
        try
        {
            if (entry.DType == TensorDType.F32 && BitConverter.IsLittleEndian)
            {
                ReadExactly(_handle, MemoryMarshal.AsBytes(values.AsSpan()), offset, $"tensor '{name}'");
            }
            else
            {
                // Other dtypes convert through a rented chunk, whole elements at a time.
                int size = SafeTensorsHeader.ElementSize(entry.DType);
                byte[] chunk = ArrayPool<byte>.Shared.Rent((int)Math.Min(bytes, ChunkBytes / size * size));
                try
                {
                    for (long done = 0; done < bytes;)
                    {
                        int n = (int)Math.Min(bytes - done, chunk.Length / size * size);
                        ReadExactly(_handle, chunk.AsSpan(0, n), offset + done, $"tensor '{name}'");
                        SafeTensors.Convert(chunk.AsSpan(0, n), entry.DType, values.AsSpan((int)(done / size), n / size), name);
                        done += n;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(chunk);
                }
            }
        }
        catch (WeightsException e)
        {
            throw new WeightsException($"{_path}: {e.Message}", e.TensorName ?? name, e);
        }

        tensor = new Tensor(entry.Name, entry.Shape, values, entry.DType);
        return true;
    }

    public void Dispose() => _handle.Dispose();

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string what)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer.Slice(total), offset + total);
            if (n <= 0)
            {
                throw new WeightsException($"the file ended after {total} of the {buffer.Length} bytes of the safetensors {what}; was it changed while loading?");
            }

            total += n;
        }
    }
}
