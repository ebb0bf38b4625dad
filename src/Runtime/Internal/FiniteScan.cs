using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Internal;

/// <summary>
/// NaN/infinity scans, written once for every vector width (see <see cref="IVectorOps{TVector}"/>) and run at the widest
/// width the CPU accelerates (the <c>IsHardwareAccelerated</c> tests fold to constants). <c>x - x</c> is 0 for a finite
/// value and NaN for NaN and infinity, so summing it flags any bad value without a compare per element.
/// </summary>
internal static class FiniteScan
{
    /// <summary>Whether all <paramref name="count"/> floats at <paramref name="values"/> are finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool All(ref float values, int count)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return All<Vector512Ops, Vector512<float>>(ref values, count);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            return All<Vector256Ops, Vector256<float>>(ref values, count);
        }

        return All<Vector128Ops, Vector128<float>>(ref values, count);
    }

    /// <summary>Copies <paramref name="count"/> floats (the two not overlapping); returns false when any is NaN or infinity (all are copied either way).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Copy(ref float source, ref float destination, int count)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return Copy<Vector512Ops, Vector512<float>>(ref source, ref destination, count);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            return Copy<Vector256Ops, Vector256<float>>(ref source, ref destination, count);
        }

        return Copy<Vector128Ops, Vector128<float>>(ref source, ref destination, count);
    }

    /// <summary>The index of the first NaN or infinity, or -1 (for error messages: a plain scalar loop).</summary>
    public static int FirstBad(ref float values, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (!float.IsFinite(Unsafe.Add(ref values, i)))
            {
                return i;
            }
        }

        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool All<TOps, TVector>(ref float values, int count)
        where TOps : IVectorOps<TVector>
        where TVector : struct
    {
        int i = 0;
        if (TOps.IsHardwareAccelerated)
        {
            int n = TOps.Count;
            TVector a0 = TOps.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; i + (4 * n) <= count; i += 4 * n)
            {
                // Four independent chains keep the adds in flight.
                TVector v0 = TOps.Load(ref values, (nuint)i), v1 = TOps.Load(ref values, (nuint)(i + n));
                TVector v2 = TOps.Load(ref values, (nuint)(i + (2 * n))), v3 = TOps.Load(ref values, (nuint)(i + (3 * n)));
                a0 = TOps.Add(a0, TOps.Subtract(v0, v0));
                a1 = TOps.Add(a1, TOps.Subtract(v1, v1));
                a2 = TOps.Add(a2, TOps.Subtract(v2, v2));
                a3 = TOps.Add(a3, TOps.Subtract(v3, v3));
            }

            for (; i + n <= count; i += n)
            {
                TVector v = TOps.Load(ref values, (nuint)i);
                a0 = TOps.Add(a0, TOps.Subtract(v, v));
            }

            if (!TOps.EqualsAll(TOps.Add(TOps.Add(a0, a1), TOps.Add(a2, a3)), TOps.Zero))
            {
                return false;
            }
        }

        for (; i < count; i++)
        {
            if (!float.IsFinite(Unsafe.Add(ref values, i)))
            {
                return false;
            }
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Copy<TOps, TVector>(ref float source, ref float destination, int count)
        where TOps : IVectorOps<TVector>
        where TVector : struct
    {
        int i = 0;
        bool finite = true;
        if (TOps.IsHardwareAccelerated)
        {
            int n = TOps.Count;
            TVector acc = TOps.Zero;
            for (; i + n <= count; i += n)
            {
                TVector v = TOps.Load(ref source, (nuint)i);
                acc = TOps.Add(acc, TOps.Subtract(v, v));
                TOps.Store(v, ref destination, (nuint)i);
            }

            if (i < count && count >= n)
            {
                // The tail as one vector ending at the last float (a LeNet input row: 28 floats, 12 of them in the tail
                // at 16 lanes), overlapping floats already copied: the same values again.
                TVector v = TOps.Load(ref source, (nuint)(count - n));
                acc = TOps.Add(acc, TOps.Subtract(v, v));
                TOps.Store(v, ref destination, (nuint)(count - n));
                i = count;
            }

            finite = TOps.EqualsAll(acc, TOps.Zero);
        }

        for (; i < count; i++)
        {
            float value = Unsafe.Add(ref source, i);
            finite &= float.IsFinite(value);
            Unsafe.Add(ref destination, i) = value;
        }

        return finite;
    }
}
