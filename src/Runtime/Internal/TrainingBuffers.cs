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
    /// A zeroed buffer of exactly <paramref name="floats"/> floats whose first element sits on a 64-byte cache line: a
    /// window of a pinned array 16 floats longer (<see cref="Buffers.Workspace"/>, as a prediction's workspace), starting
    /// at the first line in it (<see cref="Buffers.Aligned"/>; pinned, the array never moves, so the window stays on it).
    /// For a trainer's parameters, gradients, transposed copies, optimizer state, images and workspace: rows of whole
    /// vectors then start on lines, so the kernels' vector loads and stores never split one, and the threads of a dense
    /// layer split by output columns write whole lines of every row (a row of 128 floats split at float 64 otherwise shares
    /// one line between the two threads in every row: one line per row bouncing between the cores in the update). Every
    /// size lands on a line, the same every time; the window holds its array, which lives as long as the window is
    /// referenced (the trainer's fields, its parameters, the optimizer's state). Allocated once per trainer or optimizer,
    /// never per step.
    /// </summary>
    /// <param name="floats">The buffer's length, not negative.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="floats"/> is negative or leaves no room for the 16 floats to spare.</exception>
    public static Memory<float> LineAligned(int floats)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(floats);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(floats, Array.MaxLength - 16);
        float[] array = Buffers.Workspace(floats);
        int offset = (int)(Unsafe.ByteOffset(ref MemoryMarshal.GetArrayDataReference(array), ref Buffers.Aligned(array)) / sizeof(float));
        return new Memory<float>(array, offset, floats);
    }

    /// <summary>Whether the buffer's first element is on a 64-byte boundary (an empty buffer is).</summary>
    public static bool OnLine(ReadOnlySpan<float> buffer) =>
        buffer.IsEmpty || (Unsafe.ByteOffset(ref Unsafe.NullRef<float>(), in MemoryMarshal.GetReference(buffer)) & 63) == 0;

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
