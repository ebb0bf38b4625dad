using System;
using System.Runtime.CompilerServices;
using System.ComponentModel;
using System.Globalization;
using System.Numerics;
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Finite(ReadOnlySpan<float> input, string paramName)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && input.Length >= Vector<float>.Count)
        {
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(input);
            Vector<float> a0 = Vector<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            int v = 0;
            for (; v + 4 <= vectors.Length; v += 4)
            {
                // x - x is 0 for finite values and NaN for NaN and infinity; four chains keep the adds in flight.
                a0 += vectors[v] - vectors[v];
                a1 += vectors[v + 1] - vectors[v + 1];
                a2 += vectors[v + 2] - vectors[v + 2];
                a3 += vectors[v + 3] - vectors[v + 3];
            }

            for (; v < vectors.Length; v++)
            {
                a0 += vectors[v] - vectors[v];
            }

            if (Vector.EqualsAll((a0 + a1) + (a2 + a3), Vector<float>.Zero))
            {
                i = vectors.Length * Vector<float>.Count;
            }
        }

        for (; i < input.Length; i++)
        {
            if (!float.IsFinite(input[i]))
            {
                throw new ArgumentException(
                    string.Format(CultureInfo.InvariantCulture, "input[{0}] is {1}; inputs must be finite numbers", i, input[i]),
                    paramName);
            }
        }
    }

    /// <summary>Throws for an input a kernel found non-finite while packing it, naming the first bad index.</summary>
    public static void ThrowNotFinite(ReadOnlySpan<float> input, string paramName)
    {
        Finite(input, paramName);
        throw new ArgumentException("input holds NaN or infinity; inputs must be finite numbers", paramName);
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
