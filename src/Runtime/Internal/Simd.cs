using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Internal;

/// <summary>
/// Element-wise activations on whole vectors, used by the generated kernels: one overload per width, each the same
/// width-generic routine (<c>Activations</c>). Each saturates instead of overflowing: <c>Sigmoid(-90) = 0</c>,
/// <c>Tanh(+-90) = +-1</c>. Also a cheap horizontal sum (<c>Sum</c>). Not for direct use.
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

    /// <summary>The sum of the lanes: two shuffle-and-add steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector128<float> x)
    {
        x += Vector128.Shuffle(x, Vector128.Create(2, 3, 0, 1));
        x += Vector128.Shuffle(x, Vector128.Create(1, 0, 3, 2));
        return x.ToScalar();
    }
}
