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
    /// <summary>Beyond this, <c>exp</c> overflows float32 (exp(88.7) = float.MaxValue).</summary>
    private const float ExpClamp = 88f;

    /// <summary>Above this, float32's <c>exp</c> overflows to +infinity (ln(float.MaxValue)).</summary>
    private const float ExpOverflow = 88.72283f;

    /// <summary>The reduction keeps <c>n = round(x / ln 2)</c> in [-126, 127], the normal exponents.</summary>
    private const float ExpLow = -87.3f;

    private const float Log2E = 1.44269504088896341f;

    /// <summary>ln 2 = <see cref="Ln2High"/> + <see cref="Ln2Low"/>; the high part has few bits, so <c>n * Ln2High</c> is exact.</summary>
    private const float Ln2High = 0.693359375f;

    private const float Ln2Low = -2.12194440e-4f;

    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Sigmoid(TVector x) => TOps.Divide(TOps.One, TOps.Add(TOps.One, Exp(TOps.Negate(x))));

    /// <summary><c>x * sigmoid(x)</c>, as <c>x / (1 + exp(-x))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector SiLU(TVector x) => TOps.Divide(x, TOps.Add(TOps.One, Exp(TOps.Negate(x))));

    /// <summary>
    /// <c>exp(x)</c> in float32, inlined into the caller: <c>x = n ln 2 + r</c> with <c>n = round(x / ln 2)</c> and
    /// <c>|r| &lt;= ln 2 / 2</c> (Cody-Waite, ln 2 in two parts), <c>exp(r)</c> by Cephes' degree-6 polynomial (within
    /// 2 ulp of the true value), times <c>2^n</c> built in the exponent bits. Above 88.72 it is +infinity, as float32's
    /// exp; below -87.3 it stays at exp(-87.3) = 1.22e-38 instead of going subnormal, which no activation can tell
    /// from 0 after adding 1. The BCL's <c>Vector512.Exp</c> computes in double and, in the profile of EfficientNet-B0,
    /// ran partly unoptimized (tier 0) for seconds: a fifth of that network's time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Exp(TVector x)
    {
        TVector c = TOps.Max(TOps.Create(ExpLow), TOps.Min(TOps.Create(ExpClampHigh), x)); // x second: a NaN survives
        TVector n = TOps.Round(TOps.Multiply(c, TOps.Create(Log2E)));
        TVector r = TOps.MultiplyAdd(n, TOps.Create(-Ln2High), c);
        r = TOps.MultiplyAdd(n, TOps.Create(-Ln2Low), r);
        TVector p = TOps.Create(1.9875691500e-4f);
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.3981999507e-3f));
        p = TOps.MultiplyAdd(p, r, TOps.Create(8.3334519073e-3f));
        p = TOps.MultiplyAdd(p, r, TOps.Create(4.1665795894e-2f));
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.6666665459e-1f));
        p = TOps.MultiplyAdd(p, r, TOps.Create(5.0000001201e-1f));
        TVector y = TOps.MultiplyAdd(p, TOps.Multiply(r, r), TOps.Add(r, TOps.One));
        y = TOps.ScaleByPowerOfTwo(y, n);
        return TOps.SelectGreater(x, TOps.Create(ExpOverflow), TOps.Create(float.PositiveInfinity), y);
    }

    /// <summary>The largest argument reduced normally: <c>round(88 / ln 2) = 127</c>; exp(88..88.72) returns exp(88).</summary>
    private const float ExpClampHigh = 88f;

    /// <summary><c>tanh(x)</c> as <c>1 - 2 / (exp(2|x|) + 1)</c> with the sign of x, |x| clamped to 44.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Tanh(TVector x)
    {
        TVector a = TOps.Min(TOps.Create(ExpClamp / 2), TOps.Abs(x));
        TVector e = Exp(TOps.Add(a, a));
        TVector t = TOps.Subtract(TOps.One, TOps.Divide(TOps.Create(2f), TOps.Add(e, TOps.One)));
        return TOps.CopySign(t, x);
    }
}
