using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    /// <summary>
    /// A prediction's workspace of <paramref name="floats"/> floats, pinned (it never moves) with 16 floats to spare, so
    /// that <see cref="Aligned"/> finds the same 64-byte boundary on every call: vector loads and stores then never split
    /// a cache line (unaligned workspaces made in-place passes up to twice as slow, depending on where the array fell).
    /// </summary>
    public static float[] Workspace(int floats) => GC.AllocateArray<float>(floats + 16, pinned: true);

    /// <summary>The first element of <paramref name="workspace"/> (from <see cref="Workspace"/>) on a 64-byte boundary.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref float Aligned(float[] workspace)
    {
        ref float first = ref MemoryMarshal.GetArrayDataReference(workspace);
        int misaligned = (int)(Unsafe.ByteOffset(ref Unsafe.NullRef<float>(), ref first) & 63);
        return ref Unsafe.Add(ref first, ((64 - misaligned) & 63) / sizeof(float));
    }

    /// <summary>Copies <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ref float source, ref float destination, int count) =>
        MemoryMarshal.CreateReadOnlySpan(ref source, count).CopyTo(MemoryMarshal.CreateSpan(ref destination, count));

    /// <summary>Whether all <paramref name="count"/> floats are finite (at the widest accelerated width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Finite(ref float values, int count) => FiniteScan.All(ref values, count);

    /// <summary>Copies <paramref name="count"/> floats; returns false when any is NaN or infinity (at the widest accelerated width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool CopyFinite(ref float source, ref float destination, int count) => FiniteScan.Copy(ref source, ref destination, count);

    /// <summary>
    /// Softmax over <paramref name="count"/> floats at <paramref name="source"/> into <paramref name="destination"/> (may be
    /// the same memory), subtracting the maximum first so large logits do not overflow. (TensorPrimitives.SoftMax does not
    /// subtract it: it returns NaN for a logit of 89.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(ref float source, ref float destination, int count)
    {
        ReadOnlySpan<float> x = MemoryMarshal.CreateReadOnlySpan(ref source, count);
        Span<float> y = MemoryMarshal.CreateSpan(ref destination, count);
        float max = float.NegativeInfinity;
        foreach (float v in x)
        {
            max = MathF.Max(max, v);
        }

        float sum = 0f;
        for (int i = 0; i < x.Length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            y[i] = e;
            sum += e;
        }

        float inv = 1f / sum;
        for (int i = 0; i < y.Length; i++)
        {
            y[i] *= inv;
        }
    }
}
