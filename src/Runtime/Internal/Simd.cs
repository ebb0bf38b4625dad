using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Internal;

/// <summary>
/// Element-wise activations on whole vectors, used by the generated kernels: one overload per width, each the same
/// width-generic routine (<c>Activations</c>). Each saturates instead of overflowing: <c>Sigmoid(-90) = 0</c>,
/// <c>Tanh(+-90) = +-1</c>. Also a cheap horizontal sum (<c>Sum</c>) and eight at once (<c>LaneSums</c>). Not for direct use.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Simd
{
    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sigmoid(Vector128<float> x) => Activations<Vector128Ops, Vector128<float>>.Sigmoid(x);

    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x) => Activations<Vector256Ops, Vector256<float>>.Sigmoid(x);

    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Activations<Vector512Ops, Vector512<float>>.Sigmoid(x);

    /// <summary><c>x * sigmoid(x)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SiLU(Vector128<float> x) => Activations<Vector128Ops, Vector128<float>>.SiLU(x);

    /// <summary><c>x * sigmoid(x)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SiLU(Vector256<float> x) => Activations<Vector256Ops, Vector256<float>>.SiLU(x);

    /// <summary><c>x * sigmoid(x)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SiLU(Vector512<float> x) => Activations<Vector512Ops, Vector512<float>>.SiLU(x);

    /// <summary><c>tanh(x)</c>, sign-symmetric.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Tanh(Vector128<float> x) => Activations<Vector128Ops, Vector128<float>>.Tanh(x);

    /// <summary><c>tanh(x)</c>, sign-symmetric.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x) => Activations<Vector256Ops, Vector256<float>>.Tanh(x);

    /// <summary><c>tanh(x)</c>, sign-symmetric.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x) => Activations<Vector512Ops, Vector512<float>>.Tanh(x);

    /// <summary>
    /// The sum of the lanes, halving the vector (upper half added to the lower) down to 4 lanes, then two shuffles:
    /// about 8 instructions at 512 bits, where the BCL's <c>Vector512.Sum</c> sums each 128-bit quarter on its own
    /// (about 27). The order of the additions is fixed, so the result is the same on every run.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> x) => Sum(x.GetLower() + x.GetUpper());

    /// <summary>The sum of the lanes (upper half added to the lower, then two shuffles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> x) => Sum(x.GetLower() + x.GetUpper());

    /// <summary>
    /// The lane sums of eight vectors in one vector: lane <c>i</c> is the sum of <paramref name="a0"/>'s lanes for
    /// <c>i = 0</c>, <paramref name="a1"/>'s for 1, and so on (a gather's per-channel accumulators summed into one HWC
    /// pixel in about 9 instructions, where eight <c>Sum</c> take about 50). Each sum is added as
    /// <c>((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7))</c>, with AVX or without.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LaneSums(
        Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3,
        Vector256<float> a4, Vector256<float> a5, Vector256<float> a6, Vector256<float> a7)
    {
        if (Avx.IsSupported)
        {
            // [a0 01, a0 23, a1 01, a1 23 | a0 45, a0 67, a1 45, a1 67], then [a0 0-3, a1 0-3, a2 0-3, a3 0-3 | a0 4-7, ...]
            var q0 = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
            var q1 = Avx.HorizontalAdd(Avx.HorizontalAdd(a4, a5), Avx.HorizontalAdd(a6, a7));
            return Avx.Permute2x128(q0, q1, 0x20) + Avx.Permute2x128(q0, q1, 0x31);
        }

        return Vector256.Create(Ordered(a0), Ordered(a1), Ordered(a2), Ordered(a3), Ordered(a4), Ordered(a5), Ordered(a6), Ordered(a7));
    }

    /// <summary>The sum of the lanes in <see cref="LaneSums"/>'s order.</summary>
    private static float Ordered(Vector256<float> x) =>
        ((x.GetElement(0) + x.GetElement(1)) + (x.GetElement(2) + x.GetElement(3))) + ((x.GetElement(4) + x.GetElement(5)) + (x.GetElement(6) + x.GetElement(7)));

    /// <summary>The sum of the lanes: two shuffle-and-add steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector128<float> x)
    {
        x += Vector128.Shuffle(x, Vector128.Create(2, 3, 0, 1));
        x += Vector128.Shuffle(x, Vector128.Create(1, 0, 3, 2));
        return x.ToScalar();
    }
}
