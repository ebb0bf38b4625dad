using System.Runtime.CompilerServices;

namespace CnnGen.Internal;

/// <summary>
/// The element-wise activations, written once for every vector width (see <see cref="IVectorOps{TVector}"/>). Each
/// saturates instead of overflowing: <c>Sigmoid(-90) = 0</c>, <c>Tanh(+-90) = +-1</c>, never NaN for a finite input.
/// </summary>
internal static class Activations<TOps, TVector>
    where TOps : IVectorOps<TVector>
    where TVector : struct
{
    /// <summary>tanh's |x| is clamped here: tanh(44) is 1 in float32, and exp(88) still finite.</summary>
    private const float TanhClamp = 44f;

    private const float Log2E = 1.44269504088896341f;

    /// <summary>Where the portable form clamps <c>s</c>: floor(s) from -127 (2^-127 built as 0) to 128 (built as +infinity).</summary>
    private const float LowestExponent = -127f;

    private const float HighestExponent = 128.5f;

    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Sigmoid(TVector x) => TOps.Divide(TOps.One, TOps.Add(TOps.One, ExpTimes(x, -Log2E)));

    /// <summary><c>x * sigmoid(x)</c>, as <c>x / (1 + exp(-x))</c> (PyTorch's form: <c>SiLU(-inf)</c> is NaN there too).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector SiLU(TVector x) => TOps.Divide(x, TOps.Add(TOps.One, ExpTimes(x, -Log2E)));

    /// <summary><c>tanh(x)</c> as <c>1 - 2 / (exp(2|x|) + 1)</c> with the sign of x, |x| clamped to 44.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Tanh(TVector x)
    {
        TVector e = ExpTimes(TOps.Min(TOps.Create(TanhClamp), TOps.Abs(x)), 2 * Log2E);
        TVector t = TOps.Subtract(TOps.One, TOps.Divide(TOps.Create(2f), TOps.Add(e, TOps.One)));
        return TOps.CopySign(t, x);
    }

    /// <summary><c>exp(x)</c>, as the activations compute it (<see cref="ExpTimes"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Exp(TVector x) => ExpTimes(x, Log2E);

    /// <summary>
    /// <c>2^(x * log2Scale)</c> (<c>exp(k x)</c> for <c>log2Scale = k log2(e)</c>), inlined into the caller in about 9
    /// vector operations: <c>s = x log2Scale + 1/2</c> (one FMA), <c>u = s - floor(s)</c> in [0, 1), <c>q(u)</c> a
    /// degree-5 minimax polynomial of <c>2^(u - 1/2)</c> (relative error 1.7e-7), times <c>2^floor(s)</c>; so the result
    /// is <c>2^(s - 1/2)</c>, the exponent rounded to nearest. Within 3e-7 relative for |x| up to a few units, plus
    /// the rounding of <c>s</c> (6e-8 x |s| relative: 5e-6 at exp(88)), far inside what an activation needs (the
    /// 2-ulp Cephes exp it replaces took about 24 operations, and SiLU a fifth of EfficientNet-B0's time). With AVX-512
    /// (<c>vreduceps</c>, <c>vscalefps</c>) every argument works as is: +-infinity give +infinity and 0. The portable
    /// form clamps <c>s</c> to [-127, 128.5] first and builds <c>2^floor(s)</c> in the exponent bits, 0 at -127 and
    /// +infinity at 128. NaN stays NaN on both (it goes second into the clamps, see <see cref="IVectorOps{TVector}.Min"/>).
    /// Results below 2^-126 are 0 or subnormal, which no activation can tell apart after adding 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector ExpTimes(TVector x, float log2Scale)
    {
        TVector s = TOps.MultiplyAdd(x, TOps.Create(log2Scale), TOps.Create(0.5f));
        if (!TOps.ScalesAnyExponent)
        {
            s = TOps.Max(TOps.Create(LowestExponent), TOps.Min(TOps.Create(HighestExponent), s));
        }

        TVector u = TOps.FloorFraction(s);
        TVector q = TOps.MultiplyAdd(TOps.Create(1.3276468e-3f), u, TOps.Create(6.3564247e-3f));
        q = TOps.MultiplyAdd(q, u, TOps.Create(3.9475165e-2f));
        q = TOps.MultiplyAdd(q, u, TOps.Create(1.6981426e-1f));
        q = TOps.MultiplyAdd(q, u, TOps.Create(4.9013323e-1f));
        q = TOps.MultiplyAdd(q, u, TOps.Create(7.071067e-1f));
        return TOps.ScaleByFloorPowerOfTwo(q, s);
    }
}
