using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Internal;

/// <summary>Small helpers the generated training kernels call where a loop of their own would not be clearer. Not for direct use.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TrainingBuffers
{
    /// <summary>Zeroes <paramref name="count"/> floats (a gradient before a writer that accumulates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear(ref float destination, int count) => MemoryMarshal.CreateSpan(ref destination, count).Clear();

    /// <summary><c>destination += source</c> over <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(ref float source, ref float destination, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Unsafe.Add(ref destination, i) += Unsafe.Add(ref source, i);
        }
    }

    /// <summary>
    /// Softmax's backward over <paramref name="count"/> values: <c>dx = y * (dy - sum(dy * y))</c> (PyTorch's formula), written
    /// or added (<paramref name="accumulate"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftmaxBackward(ref float y, ref float dy, ref float dx, int count, bool accumulate)
    {
        float dot = 0f;
        for (int i = 0; i < count; i++)
        {
            dot += Unsafe.Add(ref dy, i) * Unsafe.Add(ref y, i);
        }

        for (int i = 0; i < count; i++)
        {
            float g = Unsafe.Add(ref y, i) * (Unsafe.Add(ref dy, i) - dot);
            Unsafe.Add(ref dx, i) = accumulate ? Unsafe.Add(ref dx, i) + g : g;
        }
    }
}
