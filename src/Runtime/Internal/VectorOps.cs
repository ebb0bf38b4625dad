using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Internal;

/// <summary>
/// The operations the runtime's SIMD routines need, once per vector type, so each routine (an activation, a finite check,
/// a checked copy) is written once, generic over the width: <c>Activations&lt;Vector256Ops, Vector256&lt;float&gt;&gt;.Sigmoid</c>
/// compiles to the code of a hand-written Vector256 version, because the JIT (and NativeAOT) specializes generics over structs
/// and inlines every member, and <see cref="IsHardwareAccelerated"/> stays a JIT-time constant.
/// (.NET 9 has no public <c>ISimdVector</c>; this is the part of it CnnGen uses.)
/// </summary>
/// <typeparam name="TVector">The vector type: <see cref="Vector128{T}"/>, <see cref="Vector256{T}"/> or <see cref="Vector512{T}"/> of float.</typeparam>
internal interface IVectorOps<TVector>
    where TVector : struct
{
    /// <summary>Whether the CPU runs this width in hardware (a JIT-time constant).</summary>
    static abstract bool IsHardwareAccelerated { get; }

    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    static abstract TVector Zero { get; }

    static abstract TVector One { get; }

    static abstract TVector Create(float value);

    static abstract TVector Load(ref float source, nuint offset);

    static abstract void Store(TVector value, ref float destination, nuint offset);

    static abstract TVector Add(TVector left, TVector right);

    static abstract TVector Subtract(TVector left, TVector right);

    static abstract TVector Divide(TVector left, TVector right);

    /// <summary>
    /// The smaller, by the CPU's own instruction (<c>MinNative</c>: no fix-ups for NaN and signed zeros). When either is
    /// NaN, x86's <c>minps</c> returns <paramref name="right"/> and Arm's <c>fmin</c> NaN: a value that may be NaN goes
    /// second, so the NaN survives.
    /// </summary>
    static abstract TVector Min(TVector left, TVector right);

    static abstract TVector Abs(TVector value);

    static abstract TVector Multiply(TVector left, TVector right);

    /// <summary><c>a * b + c</c> with one rounding (FMA).</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    /// <summary>
    /// The larger, by the CPU's own instruction (<c>MaxNative</c>); a value that may be NaN goes second, as for <see cref="Min"/>.
    /// Fast, but NaN and signed zeros give the CPU's answer: where the bits must match scalar code, use <see cref="Maximum"/>.
    /// </summary>
    static abstract TVector Max(TVector left, TVector right);

    /// <summary>
    /// <see cref="System.Math.Max(float, float)"/> per element (IEEE 754:2019 maximum: NaN when either is NaN, +0 above -0;
    /// <c>Vector512.Max</c>), where a result must equal the scalar one's bits whatever the operands. Slower than
    /// <see cref="Max"/> (the CPU's instruction, no NaN or signed-zero fix-ups), which serves where those cannot occur.
    /// </summary>
    static abstract TVector Maximum(TVector left, TVector right);

    /// <summary>The correctly rounded square root (IEEE, as <see cref="System.MathF.Sqrt"/>).</summary>
    static abstract TVector SquareRoot(TVector value);

    /// <summary>
    /// Whether <see cref="FloorFraction"/> and <see cref="ScaleByFloorPowerOfTwo"/> take any argument, the infinities
    /// included (AVX-512's <c>vreduceps</c> and <c>vscalefps</c>, a JIT-time constant); where false, the caller keeps
    /// the argument within [-127, 128.5].
    /// </summary>
    static abstract bool ScalesAnyExponent { get; }

    /// <summary><c>s - floor(s)</c>, in [0, 1); NaN stays NaN.</summary>
    static abstract TVector FloorFraction(TVector s);

    /// <summary>
    /// <c>value * 2^floor(s)</c> for a <paramref name="value"/> in [0.5, 2): 0 for <c>floor(s) &lt;= -127</c> (the
    /// built exponent's subnormals are left out), +infinity for <c>floor(s) &gt;= 128</c>.
    /// </summary>
    static abstract TVector ScaleByFloorPowerOfTwo(TVector value, TVector s);

    static abstract TVector CopySign(TVector value, TVector sign);

    static abstract bool EqualsAll(TVector left, TVector right);
}

/// <summary><see cref="IVectorOps{TVector}"/> for <see cref="Vector128{T}"/> (SSE, ARM64 NEON): 4 floats.</summary>
internal readonly struct Vector128Ops : IVectorOps<Vector128<float>>
{
    public static bool IsHardwareAccelerated => Vector128.IsHardwareAccelerated;

    public static int Count => Vector128<float>.Count;

    public static Vector128<float> Zero => Vector128<float>.Zero;

    public static Vector128<float> One => Vector128<float>.One;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Create(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(ref float source, nuint offset) => Vector128.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> left, Vector128<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> left, Vector128<float> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Divide(Vector128<float> left, Vector128<float> right) => left / right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Min(Vector128<float> left, Vector128<float> right) => Vector128.MinNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Abs(Vector128<float> value) => Vector128.Abs(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> left, Vector128<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> left, Vector128<float> right) => Vector128.MaxNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Maximum(Vector128<float> left, Vector128<float> right) => Vector128.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SquareRoot(Vector128<float> value) => Vector128.Sqrt(value);

    /// <summary>False: the portable form (NEON, and SSE where Vector128 is forced), so the tests run it at this width.</summary>
    public static bool ScalesAnyExponent => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FloorFraction(Vector128<float> s) => s - Vector128.Floor(s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ScaleByFloorPowerOfTwo(Vector128<float> value, Vector128<float> s) =>
        value * Vector128.ShiftLeft(Vector128.ConvertToInt32Native(Vector128.Floor(s)) + Vector128.Create(127), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> CopySign(Vector128<float> value, Vector128<float> sign) => Vector128.CopySign(value, sign);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool EqualsAll(Vector128<float> left, Vector128<float> right) => Vector128.EqualsAll(left, right);
}

/// <summary><see cref="IVectorOps{TVector}"/> for <see cref="Vector256{T}"/> (AVX2): 8 floats.</summary>
internal readonly struct Vector256Ops : IVectorOps<Vector256<float>>
{
    public static bool IsHardwareAccelerated => Vector256.IsHardwareAccelerated;

    public static int Count => Vector256<float>.Count;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    public static Vector256<float> One => Vector256<float>.One;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Create(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> left, Vector256<float> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> left, Vector256<float> right) => left / right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> left, Vector256<float> right) => Vector256.MinNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Abs(Vector256<float> value) => Vector256.Abs(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> left, Vector256<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) => Vector256.MaxNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Maximum(Vector256<float> left, Vector256<float> right) => Vector256.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SquareRoot(Vector256<float> value) => Vector256.Sqrt(value);

    public static bool ScalesAnyExponent => Avx512DQ.VL.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FloorFraction(Vector256<float> s) =>
        Avx512DQ.VL.IsSupported ? Avx512DQ.VL.Reduce(s, FloorControl) : s - Vector256.Floor(s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ScaleByFloorPowerOfTwo(Vector256<float> value, Vector256<float> s) =>
        Avx512DQ.VL.IsSupported
            ? Avx512F.VL.Scale(value, s)
            : value * Vector256.ShiftLeft(Vector256.ConvertToInt32Native(Vector256.Floor(s)) + Vector256.Create(127), 23).AsSingle();

    /// <summary><c>vreduceps</c>'s control: keep no fraction bits, round toward -infinity (<c>s - floor(s)</c>).</summary>
    private const byte FloorControl = 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> CopySign(Vector256<float> value, Vector256<float> sign) => Vector256.CopySign(value, sign);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool EqualsAll(Vector256<float> left, Vector256<float> right) => Vector256.EqualsAll(left, right);
}

/// <summary><see cref="IVectorOps{TVector}"/> for <see cref="Vector512{T}"/> (AVX-512): 16 floats.</summary>
internal readonly struct Vector512Ops : IVectorOps<Vector512<float>>
{
    public static bool IsHardwareAccelerated => Vector512.IsHardwareAccelerated;

    public static int Count => Vector512<float>.Count;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    public static Vector512<float> One => Vector512<float>.One;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Create(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> left, Vector512<float> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> left, Vector512<float> right) => left / right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Min(Vector512<float> left, Vector512<float> right) => Vector512.MinNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Abs(Vector512<float> value) => Vector512.Abs(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) => Vector512.MaxNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Maximum(Vector512<float> left, Vector512<float> right) => Vector512.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SquareRoot(Vector512<float> value) => Vector512.Sqrt(value);

    public static bool ScalesAnyExponent => Avx512DQ.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FloorFraction(Vector512<float> s) =>
        Avx512DQ.IsSupported ? Avx512DQ.Reduce(s, FloorControl) : s - Vector512.Floor(s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ScaleByFloorPowerOfTwo(Vector512<float> value, Vector512<float> s) =>
        Avx512DQ.IsSupported
            ? Avx512F.Scale(value, s)
            : value * Vector512.ShiftLeft(Vector512.ConvertToInt32Native(Vector512.Floor(s)) + Vector512.Create(127), 23).AsSingle();

    /// <summary><c>vreduceps</c>'s control: keep no fraction bits, round toward -infinity (<c>s - floor(s)</c>).</summary>
    private const byte FloorControl = 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> CopySign(Vector512<float> value, Vector512<float> sign) => Vector512.CopySign(value, sign);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool EqualsAll(Vector512<float> left, Vector512<float> right) => Vector512.EqualsAll(left, right);
}
