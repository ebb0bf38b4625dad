using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Internal;

/// <summary>Workspace helpers for generated networks. Not for direct use.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Buffers
{
    /// <summary>
    /// Zeroes the border of a tensor stored as <paramref name="rows"/> x <paramref name="rowPixels"/> pixels of
    /// <paramref name="pixelFloats"/> floats, so a convolution reading it sees zero padding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ClearBorder(ref float tensor, int rows, int rowPixels, int pixelFloats, int top, int left, int bottom, int right)
    {
        int rowFloats = rowPixels * pixelFloats;
        MemoryMarshal.CreateSpan(ref tensor, top * rowFloats).Clear();
        MemoryMarshal.CreateSpan(ref Unsafe.Add(ref tensor, (rows - bottom) * rowFloats), bottom * rowFloats).Clear();
        if (left + right == 0)
        {
            return;
        }

        for (int r = top; r < rows - bottom; r++)
        {
            ref float row = ref Unsafe.Add(ref tensor, r * rowFloats);
            MemoryMarshal.CreateSpan(ref row, left * pixelFloats).Clear();
            MemoryMarshal.CreateSpan(ref Unsafe.Add(ref row, (rowPixels - right) * pixelFloats), right * pixelFloats).Clear();
        }
    }

    /// <summary>Copies <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ref float source, ref float destination, int count) =>
        MemoryMarshal.CreateReadOnlySpan(ref source, count).CopyTo(MemoryMarshal.CreateSpan(ref destination, count));

    /// <summary>Copies <paramref name="count"/> floats; returns false when any is NaN or infinity.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool CopyFinite(ref float source, ref float destination, int count)
    {
        int i = 0;
        var acc = Vector256<float>.Zero;
        for (; i + 8 <= count; i += 8)
        {
            var v = Vector256.LoadUnsafe(ref source, (nuint)i);
            acc += v - v; // 0 for finite values, NaN for NaN and infinity
            v.StoreUnsafe(ref destination, (nuint)i);
        }

        bool finite = Vector256.EqualsAll(acc, Vector256<float>.Zero);
        for (; i < count; i++)
        {
            float value = Unsafe.Add(ref source, i);
            finite &= float.IsFinite(value);
            Unsafe.Add(ref destination, i) = value;
        }

        return finite;
    }

    /// <summary>Softmax over <paramref name="count"/> floats at <paramref name="source"/> into <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(ref float source, ref float destination, int count) =>
        Simd.Softmax(MemoryMarshal.CreateReadOnlySpan(ref source, count), MemoryMarshal.CreateSpan(ref destination, count));
}
