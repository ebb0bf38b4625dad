using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CnnGen.Internal;

namespace CnnGen.Training;

/// <summary>
/// The last add of a thread's part of a gradient summed over the threads (<see cref="NetworkTrainer"/>'s update inside
/// the threads' job), fused with the finite check: one pass over the part instead of an add and a scan.
/// </summary>
internal static class GradientReduce
{
    /// <summary><c>sum += other</c> (the same float adds as <see cref="TrainingMath.Add"/>), and whether every sum is finite.</summary>
    /// <param name="sum">The thread's part of the gradient, the threads before the last one already added.</param>
    /// <param name="other">The last thread's buffer over the same part.</param>
    /// <returns>Whether every element of <paramref name="sum"/> is finite afterwards (<see cref="FiniteScan"/>'s test).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AddFinite(Span<float> sum, ReadOnlySpan<float> other)
    {
        if (other.Length != sum.Length)
        {
            throw new ArgumentException("The gradient parts differ in length.", nameof(other));
        }

        if (sum.Overlaps(other))
        {
            throw new ArgumentException("The gradient parts overlap (a thread's own buffer added to itself).", nameof(other));
        }

        ref float s = ref MemoryMarshal.GetReference(sum);
        ref float o = ref MemoryMarshal.GetReference(other);
        if (Vector512.IsHardwareAccelerated)
        {
            return AddFinite<Vector512Ops, Vector512<float>>(ref s, ref o, sum.Length);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            return AddFinite<Vector256Ops, Vector256<float>>(ref s, ref o, sum.Length);
        }

        return AddFinite<Vector128Ops, Vector128<float>>(ref s, ref o, sum.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool AddFinite<TOps, TVector>(ref float s, ref float o, int count)
        where TOps : IVectorOps<TVector>
        where TVector : struct
    {
        int i = 0;
        bool finite = true;
        if (TOps.IsHardwareAccelerated)
        {
            // x - x is 0 for a finite value and NaN otherwise; two chains keep the adds in flight
            int n = TOps.Count;
            TVector a0 = TOps.Zero, a1 = a0;
            for (; i + (2 * n) <= count; i += 2 * n)
            {
                TVector v0 = TOps.Add(TOps.Load(ref s, (nuint)i), TOps.Load(ref o, (nuint)i));
                TVector v1 = TOps.Add(TOps.Load(ref s, (nuint)(i + n)), TOps.Load(ref o, (nuint)(i + n)));
                TOps.Store(v0, ref s, (nuint)i);
                TOps.Store(v1, ref s, (nuint)(i + n));
                a0 = TOps.Add(a0, TOps.Subtract(v0, v0));
                a1 = TOps.Add(a1, TOps.Subtract(v1, v1));
            }

            finite = TOps.EqualsAll(TOps.Add(a0, a1), TOps.Zero);
        }

        for (; i < count; i++)
        {
            float v = Unsafe.Add(ref s, i) + Unsafe.Add(ref o, i);
            Unsafe.Add(ref s, i) = v;
            finite &= float.IsFinite(v);
        }

        return finite;
    }
}
