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

    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Sigmoid(TVector x) => TOps.Divide(TOps.One, TOps.Add(TOps.One, TOps.Exp(TOps.Negate(x))));

    /// <summary><c>x * sigmoid(x)</c>, as <c>x / (1 + exp(-x))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector SiLU(TVector x) => TOps.Divide(x, TOps.Add(TOps.One, TOps.Exp(TOps.Negate(x))));

    /// <summary><c>tanh(x)</c> as <c>1 - 2 / (exp(2|x|) + 1)</c> with the sign of x, |x| clamped to 44.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Tanh(TVector x)
    {
        TVector a = TOps.Min(TOps.Abs(x), TOps.Create(ExpClamp / 2));
        TVector e = TOps.Exp(TOps.Add(a, a));
        TVector t = TOps.Subtract(TOps.One, TOps.Divide(TOps.Create(2f), TOps.Add(e, TOps.One)));
        return TOps.CopySign(t, x);
    }
}
