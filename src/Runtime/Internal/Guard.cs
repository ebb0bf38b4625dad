using System;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Internal;

/// <summary>Argument checks shared by every generated network. Not for direct use.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Guard
{
    /// <summary>Checks a span's length: "input has 100 floats but LeNet5 takes 784 (1x28x28, NCHW)".</summary>
    public static void Length(int actual, int expected, string what, string network, string shape, string paramName)
    {
        if (actual != expected)
        {
            throw new ArgumentException(
                string.Format(CultureInfo.InvariantCulture, "{0} has {1} floats but {2} {3} {4} ({5})",
                    what, actual, network, what.StartsWith("output", StringComparison.Ordinal) ? "writes" : "takes", expected, shape),
                paramName);
        }
    }

    /// <summary>Rejects NaN and infinity in an input, naming the first bad index.</summary>
    /// <exception cref="ArgumentException">The input holds NaN or infinity.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Finite(ReadOnlySpan<float> input, string paramName)
    {
        ref float first = ref MemoryMarshal.GetReference(input);
        if (!FiniteScan.All(ref first, input.Length))
        {
            ThrowInputNotFinite(input, FiniteScan.FirstBad(ref first, input.Length), paramName);
        }
    }

    /// <summary>Throws for an input a kernel found non-finite while packing it, naming the first bad index.</summary>
    /// <exception cref="ArgumentException">Always.</exception>
    [DoesNotReturn]
    public static void ThrowNotFinite(ReadOnlySpan<float> input, string paramName) =>
        ThrowInputNotFinite(input, FiniteScan.FirstBad(ref MemoryMarshal.GetReference(input), input.Length), paramName);

    /// <summary>
    /// After a forward pass that returned false, whose kernels check both the input (before writing any output) and the
    /// outputs they store (a sum per tile, so a finite overflow of the sum is a false alarm): throws for a non-finite input,
    /// else for a non-finite output; returns when every output is finite after all.
    /// </summary>
    /// <exception cref="ArgumentException">The input holds NaN or infinity (nothing was written).</exception>
    /// <exception cref="ArithmeticException">An output is NaN or infinity although the input is finite.</exception>
    public static void NotFinite(ReadOnlySpan<float> input, string paramName, ref float output, int outputSize, string network)
    {
        int bad = FiniteScan.FirstBad(ref MemoryMarshal.GetReference(input), input.Length);
        if (bad >= 0)
        {
            ThrowInputNotFinite(input, bad, paramName);
        }

        OutputFinite(ref output, outputSize, outputSize, network);
    }

    /// <summary>
    /// Checks a network's output after a prediction from a finite input with finite weights: NaN or infinity there means an
    /// intermediate value overflowed float32 (an input or weight too large in magnitude, e.g. float.MaxValue pixels).
    /// <paramref name="length"/> may span a batch of outputs of <paramref name="outputSize"/> floats each.
    /// </summary>
    /// <exception cref="ArithmeticException">
    /// An output is NaN or infinity; the message names the network, the first bad index (and image in a batch) and its value.
    /// The outputs hold what was computed.
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputFinite(ref float output, int length, int outputSize, string network)
    {
        if (!FiniteScan.All(ref output, length))
        {
            ThrowOutputNotFinite(ref output, length, outputSize, network);
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowInputNotFinite(ReadOnlySpan<float> input, int index, string paramName)
    {
        if (index < 0)
        {
            throw new ArgumentException("input holds NaN or infinity; inputs must be finite numbers", paramName);
        }

        throw new ArgumentException(
            string.Format(CultureInfo.InvariantCulture, "input[{0}] is {1}; inputs must be finite numbers", index, input[index]),
            paramName);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutputNotFinite(ref float output, int length, int outputSize, string network)
    {
        int index = FiniteScan.FirstBad(ref output, length);
        if (index < 0)
        {
            // Another thread rewrote the output between the scan and this message.
            throw new ArithmeticException(network + " computed NaN or infinity from a finite input: an intermediate value overflowed float32");
        }

        float value = Unsafe.Add(ref output, index);
        string where = length > outputSize && outputSize > 0
            ? string.Format(CultureInfo.InvariantCulture, "output[{0}] of image {1} (outputs[{2}])", index % outputSize, index / outputSize, index)
            : string.Format(CultureInfo.InvariantCulture, "output[{0}]", index);
        throw new ArithmeticException(string.Format(CultureInfo.InvariantCulture,
            "{0} computed {1} at {2} from a finite input: an intermediate value overflowed float32, so an input or a weight is too large in magnitude",
            network, value, where));
    }

    /// <summary>Checks a thread count: at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is 0 or negative.</exception>
    public static void Threads(int threads)
    {
        if (threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be at least 1");
        }
    }

    /// <summary>Checks a batch size against the spans it must fit.</summary>
    public static void Batch(int inputs, int outputs, int batchSize, int inputSize, int outputSize, string network)
    {
        if (batchSize < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must not be negative");
        }

        long needIn = (long)batchSize * inputSize, needOut = (long)batchSize * outputSize;
        if (inputs != needIn)
        {
            throw new ArgumentException(string.Format(CultureInfo.InvariantCulture,
                "inputs has {0} floats but {1} takes {2} for a batch of {3} ({3} x {4})", inputs, network, needIn, batchSize, inputSize), nameof(inputs));
        }

        if (outputs != needOut)
        {
            throw new ArgumentException(string.Format(CultureInfo.InvariantCulture,
                "outputs has {0} floats but {1} writes {2} for a batch of {3} ({3} x {4})", outputs, network, needOut, batchSize, outputSize), nameof(outputs));
        }
    }

    /// <summary>Index of the largest value (the first on ties).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
