using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CnnGen.Internal;

namespace CnnGen.Training;

/// <summary>
/// The element-wise loops behind the optimizers and gradient clipping. The updates (<see cref="Sgd"/>,
/// <see cref="Adam"/>) run on the widest accelerated vectors, then narrower ones (Vector512, Vector256, Vector128, one
/// generic loop over <see cref="IVectorOps{TVector}"/>); <see cref="Add"/> and <see cref="Scale"/> on
/// <see cref="Vector{T}"/>. Each finishes with a scalar tail that performs
/// exactly the same IEEE operations in the same order (a fused multiply-add where the vector body fuses), so
/// an element's result does not depend on the vector width, on the buffer's length or on where it sits in
/// the buffer. The operation order is PyTorch 1.13's (see each optimizer).
/// </summary>
internal static class TrainingMath
{
    /// <summary>
    /// Returns the index of the first NaN or infinity, or -1 when every element is finite: the runtime's vector scan
    /// (<see cref="FiniteScan.All"/>, four accumulators at the widest accelerated width), and the index only when it fails.
    /// </summary>
    public static int FirstNonFinite(ReadOnlySpan<float> x)
    {
        ref float r = ref MemoryMarshal.GetReference(x);
        return FiniteScan.All(ref r, x.Length) ? -1 : FiniteScan.FirstBad(ref r, x.Length);
    }

    /// <summary>
    /// The sum of squares in double. Element <c>i</c> goes to accumulator <c>i % 8</c>
    /// (<c>acc = fma(x, x, acc)</c> in double, in index order) and the eight are added pairwise at the end,
    /// on the Vector256 path and the scalar path alike, so the result is the same bits on every machine.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        int n = x.Length;
        int i = 0;
        Span<double> acc = stackalloc double[8];
        acc.Clear();
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            ref float r = ref MemoryMarshal.GetReference(x);
            Vector256<double> lo = Vector256<double>.Zero, hi = lo;
            for (; i <= n - 8; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref r, (nuint)i);
                Vector256<double> a = Vector256.WidenLower(v), b = Vector256.WidenUpper(v);
                lo = Vector256.FusedMultiplyAdd(a, a, lo);
                hi = Vector256.FusedMultiplyAdd(b, b, hi);
            }

            lo.CopyTo(acc);
            hi.CopyTo(acc.Slice(4));
        }

        for (; i < n; i++)
        {
            double v = x[i];
            acc[i & 7] = Math.FusedMultiplyAdd(v, v, acc[i & 7]);
        }

        return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of a buffer of <paramref name="length"/> floats, for threads
    /// working on one buffer at once: the parts are contiguous, in order, cover it exactly, and start on multiples of 16
    /// floats (a 64-byte cache line when the buffer is aligned), so two threads rarely write one line.
    /// </summary>
    public static (int Start, int Length) Slice(int length, int part, int parts)
    {
        int start = part == 0 ? 0 : (int)((long)length * part / parts) & ~15;
        int end = part == parts - 1 ? length : (int)((long)length * (part + 1) / parts) & ~15;
        return (start, Math.Max(0, end - start));
    }

    /// <summary>
    /// The first of part <paramref name="part"/>'s vectors when <paramref name="parts"/> threads deal out
    /// <paramref name="vectors"/> output vectors of a dense layer split by columns (<c>vectors * part / parts</c>; the
    /// generated kernels take the same range).
    /// </summary>
    public static int VectorPart(int vectors, int part, int parts) => (int)((long)vectors * part / parts);

    /// <summary><c>x += y</c> (element by element; the same bits at any width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(Span<float> x, ReadOnlySpan<float> y)
    {
        int n = x.Length;
        int i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                (Vector.LoadUnsafe(ref rx, (nuint)i) + Vector.LoadUnsafe(ref ry, (nuint)i)).StoreUnsafe(ref rx, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref rx, i) += Unsafe.Add(ref ry, i);
        }
    }

    /// <summary><c>x *= factor</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(Span<float> x, float factor)
    {
        int n = x.Length;
        int i = 0;
        ref float r = ref MemoryMarshal.GetReference(x);
        if (Vector.IsHardwareAccelerated)
        {
            var f = new Vector<float>(factor);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                (Vector.LoadUnsafe(ref r, (nuint)i) * f).StoreUnsafe(ref r, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref r, i) *= factor;
        }
    }

    /// <summary>
    /// One SGD step on one buffer, PyTorch 1.13's <c>_single_tensor_sgd</c>:
    /// <c>d = g + wd * p</c> (when wd != 0; fused, as <c>add(alpha)</c> is); with momentum, on the first step
    /// <c>buf = d</c>, afterwards <c>buf = (buf * momentum) + (1 - dampening) * d</c> (the add fused); then
    /// <c>d = d + momentum * buf</c> (nesterov, fused) or <c>d = buf</c>; finally <c>p = p + (-lr) * d</c> (fused).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sgd(Span<float> p, ReadOnlySpan<float> g, Span<float> buf, in SgdScalars s)
    {
        int n = p.Length;
        string? shorter = g.Length < n ? nameof(g) : s.HasMomentum && buf.Length < n ? nameof(buf) : null;
        if (shorter is not null)
        {
            throw new ArgumentOutOfRangeException(shorter, $"The buffer '{shorter}' is shorter than the value ({n} floats).");
        }

        SgdRow(ref MemoryMarshal.GetReference(p), ref MemoryMarshal.GetReference(g), ref MemoryMarshal.GetReference(buf), n, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SgdRow(ref float rp, ref float rg, ref float rb, int n, in SgdScalars s)
    {
        // the widest vectors first (Vector<float> is 256 bits on .NET 10 even with AVX-512), then narrower ones: the same
        // operations per element at every width
        int i = 0;
        if (s.HasMomentum && !s.Nesterov)
        {
            i = SgdMomentumBlocks(ref rp, ref rg, ref rb, n, s);
        }

        if (Vector512.IsHardwareAccelerated)
        {
            i = SgdVectors<Vector512Ops, Vector512<float>>(ref rp, ref rg, ref rb, i, n, s);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            i = SgdVectors<Vector256Ops, Vector256<float>>(ref rp, ref rg, ref rb, i, n, s);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            i = SgdVectors<Vector128Ops, Vector128<float>>(ref rp, ref rg, ref rb, i, n, s);
        }

        SgdScalar(ref rp, ref rg, ref rb, i, n, s);
    }

    /// <summary><see cref="SgdRow"/>'s update one element at a time from <paramref name="i"/> to <paramref name="n"/> (the vector loops' tail).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SgdScalar(ref float rp, ref float rg, ref float rb, int i, int n, in SgdScalars s)
    {
        for (; i < n; i++)
        {
            float pv = Unsafe.Add(ref rp, i);
            float d = Unsafe.Add(ref rg, i);
            if (s.HasWeightDecay)
            {
                d = MathF.FusedMultiplyAdd(pv, s.WeightDecay, d);
            }

            if (s.HasMomentum)
            {
                float b = s.FirstStep ? d : MathF.FusedMultiplyAdd(d, s.OneMinusDampening, Unsafe.Add(ref rb, i) * s.Momentum);
                Unsafe.Add(ref rb, i) = b;
                d = s.Nesterov ? MathF.FusedMultiplyAdd(b, s.Momentum, d) : b;
            }

            Unsafe.Add(ref rp, i) = MathF.FusedMultiplyAdd(d, s.NegativeLearningRate, pv);
        }
    }

    /// <summary>
    /// Momentum without Nesterov over whole blocks of <see cref="MomentumBlock"/> floats from the start, at the widest
    /// accelerated width; returns the first element left. Each block takes two passes: the momentum buffer
    /// (<c>b = momentum * b + (1 - dampening) * d</c>), then the weights (<c>p = p - lr * b</c>, <c>b</c> read back from L1),
    /// the same operations per element as <see cref="SgdVectors"/>, so the same bits. Why: on several threads the weights
    /// are read by every thread's forward pass, so each store to a thread's part of them waits for the other cores' copies
    /// to be invalidated; in one pass the momentum stores queue among those waiting weight stores, while a pass of weight
    /// stores alone keeps more of the weights' lines in flight. The MLP's two-thread step, Zen 4 V512: the update phase
    /// 32 -> 24 us per thread (fc1's half of 100,352 weights), one thread unchanged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SgdMomentumBlocks(ref float rp, ref float rg, ref float rb, int n, in SgdScalars s)
    {
        int i = 0;
        for (; i + MomentumBlock <= n; i += MomentumBlock)
        {
            ref float p = ref Unsafe.Add(ref rp, i), g = ref Unsafe.Add(ref rg, i), b = ref Unsafe.Add(ref rb, i);
            if (Vector512.IsHardwareAccelerated)
            {
                SgdMomentumBlock<Vector512Ops, Vector512<float>>(ref p, ref g, ref b, s);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                SgdMomentumBlock<Vector256Ops, Vector256<float>>(ref p, ref g, ref b, s);
            }
            else
            {
                return i;
            }
        }

        return i;
    }

    /// <summary>Floats per block of <see cref="SgdMomentumBlocks"/>: 2 KB of momentum, read back from L1.</summary>
    internal const int MomentumBlock = 512;

    /// <summary>One block of <see cref="SgdMomentumBlocks"/>: the momentum pass, then the weights pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SgdMomentumBlock<TOps, TVector>(ref float rp, ref float rg, ref float rb, in SgdScalars s)
        where TOps : IVectorOps<TVector>
        where TVector : struct
    {
        TVector wd = TOps.Create(s.WeightDecay), momentum = TOps.Create(s.Momentum);
        TVector keep = TOps.Create(s.OneMinusDampening), negLr = TOps.Create(s.NegativeLearningRate);
        for (int i = 0; i < MomentumBlock; i += TOps.Count)
        {
            TVector d = TOps.Load(ref rg, (nuint)i);
            if (s.HasWeightDecay)
            {
                d = TOps.MultiplyAdd(TOps.Load(ref rp, (nuint)i), wd, d);
            }

            TOps.Store(s.FirstStep ? d : TOps.MultiplyAdd(d, keep, TOps.Multiply(TOps.Load(ref rb, (nuint)i), momentum)), ref rb, (nuint)i);
        }

        for (int i = 0; i < MomentumBlock; i += TOps.Count)
        {
            TOps.Store(TOps.MultiplyAdd(TOps.Load(ref rb, (nuint)i), negLr, TOps.Load(ref rp, (nuint)i)), ref rp, (nuint)i);
        }
    }

    /// <summary>
    /// <see cref="SgdRow"/>'s update on whole vectors of <typeparamref name="TVector"/> from element <paramref name="i"/> (of
    /// <paramref name="n"/>); returns the first element left. Any width runs in software where the CPU lacks it (the tests
    /// compare every width's bits).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int SgdVectors<TOps, TVector>(ref float rp, ref float rg, ref float rb, int i, int n, in SgdScalars s)
        where TOps : IVectorOps<TVector>
        where TVector : struct
    {
        TVector wd = TOps.Create(s.WeightDecay), momentum = TOps.Create(s.Momentum);
        TVector keep = TOps.Create(s.OneMinusDampening), negLr = TOps.Create(s.NegativeLearningRate);
        for (; i <= n - TOps.Count; i += TOps.Count)
        {
            TVector pv = TOps.Load(ref rp, (nuint)i);
            TVector d = TOps.Load(ref rg, (nuint)i);
            if (s.HasWeightDecay)
            {
                d = TOps.MultiplyAdd(pv, wd, d);
            }

            if (s.HasMomentum)
            {
                TVector b = s.FirstStep ? d : TOps.MultiplyAdd(d, keep, TOps.Multiply(TOps.Load(ref rb, (nuint)i), momentum));
                TOps.Store(b, ref rb, (nuint)i);
                d = s.Nesterov ? TOps.MultiplyAdd(b, momentum, d) : b;
            }

            TOps.Store(TOps.MultiplyAdd(d, negLr, pv), ref rp, (nuint)i);
        }

        return i;
    }

    /// <summary>
    /// One Adam or AdamW step on one buffer, PyTorch 1.13's <c>_single_tensor_adam(w)</c>:
    /// AdamW first <c>p = p * (1 - lr * wd)</c>; Adam <c>g = g + wd * p</c> (when wd != 0, fused);
    /// <c>m = (m * b1) + (1 - b1) * g</c> (the add fused, as <c>add_(alpha)</c>);
    /// <c>v = (v * b2) + ((1 - b2) * g) * g</c> (not fused, as <c>addcmul_</c>);
    /// AMSGrad <c>vmax = max(vmax, v)</c>; <c>denom = sqrt(v or vmax) / sqrt(bc2) + eps</c>;
    /// <c>p = p + ((-lr / bc1) * m) / denom</c> (as <c>addcdiv_</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Adam(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Span<float> vmax, in AdamScalars s)
    {
        int n = p.Length;
        string? shorter = g.Length < n ? nameof(g) : m.Length < n ? nameof(m) : v.Length < n ? nameof(v) : s.AmsGrad && vmax.Length < n ? nameof(vmax) : null;
        if (shorter is not null)
        {
            throw new ArgumentOutOfRangeException(shorter, $"The buffer '{shorter}' is shorter than the value ({n} floats).");
        }

        ref float rp = ref MemoryMarshal.GetReference(p);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rv = ref MemoryMarshal.GetReference(v);
        ref float rx = ref MemoryMarshal.GetReference(vmax);

        // the widest vectors first, then narrower ones, then one element at a time: the same operations per element
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            i = AdamVectors<Vector512Ops, Vector512<float>>(ref rp, ref rg, ref rm, ref rv, ref rx, i, n, s);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            i = AdamVectors<Vector256Ops, Vector256<float>>(ref rp, ref rg, ref rm, ref rv, ref rx, i, n, s);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            i = AdamVectors<Vector128Ops, Vector128<float>>(ref rp, ref rg, ref rm, ref rv, ref rx, i, n, s);
        }

        AdamScalar(ref rp, ref rg, ref rm, ref rv, ref rx, i, n, s);
    }

    /// <summary>
    /// <see cref="Adam"/>'s update on whole vectors of <typeparamref name="TVector"/> from element <paramref name="i"/> (of
    /// <paramref name="n"/>); returns the first element left. Any width runs in software where the CPU lacks it (the tests
    /// compare every width's bits).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int AdamVectors<TOps, TVector>(ref float rp, ref float rg, ref float rm, ref float rv, ref float rx, int i, int n, in AdamScalars s)
        where TOps : IVectorOps<TVector>
        where TVector : struct
    {
        TVector decay = TOps.Create(s.Decay), wd = TOps.Create(s.WeightDecay);
        TVector beta1 = TOps.Create(s.Beta1), oneMinusBeta1 = TOps.Create(s.OneMinusBeta1);
        TVector beta2 = TOps.Create(s.Beta2), oneMinusBeta2 = TOps.Create(s.OneMinusBeta2);
        TVector bc2Sqrt = TOps.Create(s.BiasCorrection2Sqrt), eps = TOps.Create(s.Epsilon), negStep = TOps.Create(s.NegativeStepSize);
        for (; i <= n - TOps.Count; i += TOps.Count)
        {
            TVector pv = TOps.Load(ref rp, (nuint)i);
            TVector gv = TOps.Load(ref rg, (nuint)i);
            if (s.Decoupled)
            {
                pv = TOps.Multiply(pv, decay);
            }
            else if (s.HasWeightDecay)
            {
                gv = TOps.MultiplyAdd(pv, wd, gv);
            }

            TVector mv = TOps.MultiplyAdd(gv, oneMinusBeta1, TOps.Multiply(TOps.Load(ref rm, (nuint)i), beta1));
            TVector vv = TOps.Add(TOps.Multiply(TOps.Load(ref rv, (nuint)i), beta2), TOps.Multiply(TOps.Multiply(oneMinusBeta2, gv), gv));
            TOps.Store(mv, ref rm, (nuint)i);
            TOps.Store(vv, ref rv, (nuint)i);
            if (s.AmsGrad)
            {
                vv = TOps.Maximum(TOps.Load(ref rx, (nuint)i), vv);
                TOps.Store(vv, ref rx, (nuint)i);
            }

            TVector denom = TOps.Add(TOps.Divide(TOps.SquareRoot(vv), bc2Sqrt), eps);
            TOps.Store(TOps.Add(pv, TOps.Divide(TOps.Multiply(negStep, mv), denom)), ref rp, (nuint)i);
        }

        return i;
    }

    /// <summary><see cref="Adam"/>'s update one element at a time from <paramref name="i"/> to <paramref name="n"/> (the vector loops' tail).</summary>
    internal static void AdamScalar(ref float rp, ref float rg, ref float rm, ref float rv, ref float rx, int i, int n, in AdamScalars s)
    {
        for (; i < n; i++)
        {
            float pv = Unsafe.Add(ref rp, i);
            float gv = Unsafe.Add(ref rg, i);
            if (s.Decoupled)
            {
                pv *= s.Decay;
            }
            else if (s.HasWeightDecay)
            {
                gv = MathF.FusedMultiplyAdd(pv, s.WeightDecay, gv);
            }

            float mv = MathF.FusedMultiplyAdd(gv, s.OneMinusBeta1, Unsafe.Add(ref rm, i) * s.Beta1);
            float vv = (Unsafe.Add(ref rv, i) * s.Beta2) + ((s.OneMinusBeta2 * gv) * gv);
            Unsafe.Add(ref rm, i) = mv;
            Unsafe.Add(ref rv, i) = vv;
            if (s.AmsGrad)
            {
                vv = MathF.Max(Unsafe.Add(ref rx, i), vv);
                Unsafe.Add(ref rx, i) = vv;
            }

            float denom = (MathF.Sqrt(vv) / s.BiasCorrection2Sqrt) + s.Epsilon;
            Unsafe.Add(ref rp, i) = pv + ((s.NegativeStepSize * mv) / denom);
        }
    }
}

/// <summary>The float scalars of one SGD step, each rounded from PyTorch's double as PyTorch rounds it.</summary>
internal readonly struct SgdScalars
{
    public SgdScalars(double learningRate, double momentum, double dampening, double weightDecay, bool nesterov, bool firstStep)
    {
        HasWeightDecay = weightDecay != 0;
        WeightDecay = (float)weightDecay;
        HasMomentum = momentum != 0;
        Momentum = (float)momentum;
        OneMinusDampening = (float)(1 - dampening);
        Nesterov = nesterov;
        FirstStep = firstStep;
        NegativeLearningRate = (float)-learningRate;
    }

    public bool HasWeightDecay { get; }

    public float WeightDecay { get; }

    public bool HasMomentum { get; }

    public float Momentum { get; }

    public float OneMinusDampening { get; }

    public bool Nesterov { get; }

    public bool FirstStep { get; }

    public float NegativeLearningRate { get; }
}

/// <summary>The float scalars of one Adam/AdamW step; the bias corrections are computed in double as in PyTorch.</summary>
internal readonly struct AdamScalars
{
    public AdamScalars(double learningRate, double beta1, double beta2, double epsilon, double weightDecay, bool amsGrad, bool decoupled, long step)
    {
        Decoupled = decoupled;
        Decay = (float)(1 - (learningRate * weightDecay));
        HasWeightDecay = weightDecay != 0;
        WeightDecay = (float)weightDecay;
        Beta1 = (float)beta1;
        OneMinusBeta1 = (float)(1 - beta1);
        Beta2 = (float)beta2;
        OneMinusBeta2 = (float)(1 - beta2);
        AmsGrad = amsGrad;

        // PyTorch keeps the step in a float32 tensor and reads it back with .item().
        double t = (float)step;
        double biasCorrection1 = 1 - Math.Pow(beta1, t);
        double biasCorrection2 = 1 - Math.Pow(beta2, t);
        BiasCorrection2Sqrt = (float)Math.Sqrt(biasCorrection2);
        Epsilon = (float)epsilon;
        NegativeStepSize = (float)-(learningRate / biasCorrection1);
    }

    public bool Decoupled { get; }

    public float Decay { get; }

    public bool HasWeightDecay { get; }

    public float WeightDecay { get; }

    public float Beta1 { get; }

    public float OneMinusBeta1 { get; }

    public float Beta2 { get; }

    public float OneMinusBeta2 { get; }

    public bool AmsGrad { get; }

    public float BiasCorrection2Sqrt { get; }

    public float Epsilon { get; }

    public float NegativeStepSize { get; }
}
