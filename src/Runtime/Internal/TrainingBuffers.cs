using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Internal;

/// <summary>Small helpers the generated training kernels call where a loop of their own would not be clearer. Not for direct use.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TrainingBuffers
{
    /// <summary>
    /// A zeroed array of exactly <paramref name="floats"/> floats whose first element sits on a 64-byte cache line (when the
    /// GC puts one there within a few tries; else the last one tried), pinned so it never moves. For a trainer's
    /// parameters, gradients, optimizer state, images and workspace: rows of whole vectors then start on lines, so the
    /// kernels' vector loads and stores never split one, and the threads of a dense layer split by output columns write
    /// whole lines of every row (a row of 128 floats split at float 64 otherwise shares one line between the two threads
    /// in every row: one line per row bouncing between the cores in the update). The GC places arrays on 8-byte
    /// boundaries, successive pinned ones on different residues of 64 (not always: an array whose size in bytes, 24 + 4 x
    /// floats, is a multiple of 64 may land on one residue every time, and a large one can take more than 8 tries). The
    /// misses are kept until a hit so the GC cannot hand the same address back, then dropped: up to 32 transient copies
    /// of a large array, 128 of one of at most 4,096 floats (small ones can come from the pinned heap's free gaps, at any
    /// residue: 1 in 8 lands on a line), garbage for the next full collection. Allocated once per trainer or optimizer,
    /// never per step.
    /// </summary>
    public static float[] LineAligned(int floats)
    {
        var misses = new System.Collections.Generic.List<float[]>();
        float[] array = GC.AllocateArray<float>(floats, pinned: true);
        while (!OnLine(array) && misses.Count < (floats <= 4096 ? 128 : 32))
        {
            misses.Add(array);
            array = GC.AllocateArray<float>(floats, pinned: true);
        }

        GC.KeepAlive(misses);
        return array;
    }

    /// <summary>Whether the array's first element is on a 64-byte boundary.</summary>
    public static bool OnLine(float[] array) =>
        array.Length == 0 || (Unsafe.ByteOffset(ref Unsafe.NullRef<float>(), ref MemoryMarshal.GetArrayDataReference(array)) & 63) == 0;

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
