using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Internal;

/// <summary>
/// Matrix transposes for the layout changes at a network's edges (NCHW input to HWC, HWC output to NCHW).
/// 8 x 8 blocks go through AVX registers; edges and non-x86 machines use a scalar loop. Not for direct use.
/// </summary>
/// <remarks>
/// <see cref="Run"/> and <see cref="RunFinite"/> are two loops on purpose: the JIT inlines each into the generated
/// kernels that call them with constant sizes. One generic core specialized by a check flag was not inlined (nor its
/// scalar edges), which cost LeNet-5 20% and the MobileNet block 11% per image (A/B, bench, AMD EPYC Zen 4,
/// 2026-11-28).
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Transpose
{
    /// <summary><c>dst[c * dstStride + r] = src[r * srcStride + c]</c> for <c>r &lt; rows</c>, <c>c &lt; cols</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ref float src, int rows, int cols, int srcStride, ref float dst, int dstStride)
    {
        int r0 = 0;
        if (Avx.IsSupported)
        {
            for (; r0 + 8 <= rows; r0 += 8)
            {
                int c0 = 0;
                for (; c0 + 8 <= cols; c0 += 8)
                {
                    _ = Block8x8(ref Unsafe.Add(ref src, (r0 * srcStride) + c0), srcStride, ref Unsafe.Add(ref dst, (c0 * dstStride) + r0), dstStride);
                }

                Scalar(ref src, r0, r0 + 8, c0, cols, srcStride, ref dst, dstStride);
            }
        }

        Scalar(ref src, r0, rows, 0, cols, srcStride, ref dst, dstStride);
    }

    /// <summary>
    /// <see cref="Run"/>, also checking every value read: returns false when the source holds NaN or infinity
    /// (the values are transposed either way). Lets a network check its input while packing it, in one pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool RunFinite(ref float src, int rows, int cols, int srcStride, ref float dst, int dstStride)
    {
        int r0 = 0;
        var acc = Vector256<float>.Zero;
        if (Avx.IsSupported)
        {
            for (; r0 + 8 <= rows; r0 += 8)
            {
                int c0 = 0;
                for (; c0 + 8 <= cols; c0 += 8)
                {
                    acc += Block8x8(ref Unsafe.Add(ref src, (r0 * srcStride) + c0), srcStride, ref Unsafe.Add(ref dst, (c0 * dstStride) + r0), dstStride);
                }

                if (!ScalarFinite(ref src, r0, r0 + 8, c0, cols, srcStride, ref dst, dstStride))
                {
                    return false;
                }
            }
        }

        return ScalarFinite(ref src, r0, rows, 0, cols, srcStride, ref dst, dstStride) && Vector256.EqualsAll(acc, Vector256<float>.Zero);
    }

    private static bool ScalarFinite(ref float src, int rowStart, int rowEnd, int colStart, int colEnd, int srcStride, ref float dst, int dstStride)
    {
        bool finite = true;
        for (int c = colStart; c < colEnd; c++)
        {
            ref float d = ref Unsafe.Add(ref dst, c * dstStride);
            for (int r = rowStart; r < rowEnd; r++)
            {
                float value = Unsafe.Add(ref src, (r * srcStride) + c);
                finite &= float.IsFinite(value);
                Unsafe.Add(ref d, r) = value;
            }
        }

        return finite;
    }

    private static void Scalar(ref float src, int rowStart, int rowEnd, int colStart, int colEnd, int srcStride, ref float dst, int dstStride)
    {
        for (int c = colStart; c < colEnd; c++)
        {
            ref float d = ref Unsafe.Add(ref dst, c * dstStride);
            for (int r = rowStart; r < rowEnd; r++)
            {
                Unsafe.Add(ref d, r) = Unsafe.Add(ref src, (r * srcStride) + c);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Block8x8(ref float src, int srcStride, ref float dst, int dstStride)
    {
        var r0 = Vector256.LoadUnsafe(ref src);
        var r1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, srcStride));
        var r2 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 2 * srcStride));
        var r3 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 3 * srcStride));
        var r4 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 4 * srcStride));
        var r5 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 5 * srcStride));
        var r6 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 6 * srcStride));
        var r7 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 7 * srcStride));

        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(s0, s4, 0x20).StoreUnsafe(ref dst);
        Avx.Permute2x128(s1, s5, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, dstStride));
        Avx.Permute2x128(s2, s6, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, 2 * dstStride));
        Avx.Permute2x128(s3, s7, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, 3 * dstStride));
        Avx.Permute2x128(s0, s4, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 4 * dstStride));
        Avx.Permute2x128(s1, s5, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 5 * dstStride));
        Avx.Permute2x128(s2, s6, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 6 * dstStride));
        Avx.Permute2x128(s3, s7, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 7 * dstStride));

        // x - x is 0 for finite values and NaN for NaN and infinity.
        return ((r0 - r0) + (r1 - r1)) + ((r2 - r2) + (r3 - r3)) + ((r4 - r4) + (r5 - r5)) + ((r6 - r6) + (r7 - r7));
    }
}
