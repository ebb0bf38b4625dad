using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen;

/// <summary>
/// Element-wise activations on whole vectors, used by the generated kernels (one overload per width).
/// Each saturates instead of overflowing: <c>Sigmoid(-90) = 0</c>, <c>Tanh(+-90) = +-1</c>.
/// </summary>
public static class Simd
{
    private const float ExpClamp = 88f;

    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-x));

    /// <summary><c>x * sigmoid(x)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SiLU(Vector256<float> x) => x / (Vector256<float>.One + Vector256.Exp(-x));

    /// <summary><c>tanh(x)</c> as <c>1 - 2 / (exp(2x) + 1)</c>, sign-symmetric.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var a = Vector256.Min(Vector256.Abs(x), Vector256.Create(ExpClamp / 2));
        var e = Vector256.Exp(a + a);
        var t = Vector256<float>.One - (Vector256.Create(2f) / (e + Vector256<float>.One));
        return Vector256.CopySign(t, x);
    }

    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-x));

    /// <summary><c>x * sigmoid(x)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SiLU(Vector512<float> x) => x / (Vector512<float>.One + Vector512.Exp(-x));

    /// <summary><c>tanh(x)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var a = Vector512.Min(Vector512.Abs(x), Vector512.Create(ExpClamp / 2));
        var e = Vector512.Exp(a + a);
        var t = Vector512<float>.One - (Vector512.Create(2f) / (e + Vector512<float>.One));
        return Vector512.CopySign(t, x);
    }

    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sigmoid(Vector128<float> x) => Vector128<float>.One / (Vector128<float>.One + Vector128.Exp(-x));

    /// <summary><c>x * sigmoid(x)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SiLU(Vector128<float> x) => x / (Vector128<float>.One + Vector128.Exp(-x));

    /// <summary><c>tanh(x)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Tanh(Vector128<float> x)
    {
        var a = Vector128.Min(Vector128.Abs(x), Vector128.Create(ExpClamp / 2));
        var e = Vector128.Exp(a + a);
        var t = Vector128<float>.One - (Vector128.Create(2f) / (e + Vector128<float>.One));
        return Vector128.CopySign(t, x);
    }

    /// <summary>Softmax of <paramref name="x"/> into <paramref name="y"/> (may be the same memory), with max subtraction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(ReadOnlySpan<float> x, Span<float> y)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x)
        {
            max = MathF.Max(max, v);
        }

        float sum = 0f;
        for (int i = 0; i < x.Length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            y[i] = e;
            sum += e;
        }

        float inv = 1f / sum;
        for (int i = 0; i < x.Length; i++)
        {
            y[i] *= inv;
        }
    }
}
