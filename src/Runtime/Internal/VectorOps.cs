using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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

    static abstract TVector Negate(TVector value);

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

    /// <summary>The larger, by the CPU's own instruction (<c>MaxNative</c>); a value that may be NaN goes second, as for <see cref="Min"/>.</summary>
    static abstract TVector Max(TVector left, TVector right);

    /// <summary>Rounds to the nearest integer, ties to even.</summary>
    static abstract TVector Round(TVector value);

    /// <summary><c>value * 2^n</c> for integral <paramref name="n"/> in [-126, 127] (built in the exponent bits).</summary>
    static abstract TVector ScaleByPowerOfTwo(TVector value, TVector n);

    /// <summary><paramref name="whenGreater"/> where <c>value &gt; limit</c>, else <paramref name="otherwise"/>.</summary>
    static abstract TVector SelectGreater(TVector value, TVector limit, TVector whenGreater, TVector otherwise);

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
    public static Vector128<float> Negate(Vector128<float> value) => -value;

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
    public static Vector128<float> Round(Vector128<float> value) => Vector128.Round(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ScaleByPowerOfTwo(Vector128<float> value, Vector128<float> n) =>
        value * Vector128.ShiftLeft(Vector128.ConvertToInt32Native(n) + Vector128.Create(127), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SelectGreater(Vector128<float> value, Vector128<float> limit, Vector128<float> whenGreater, Vector128<float> otherwise) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(value, limit), whenGreater, otherwise);

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
    public static Vector256<float> Negate(Vector256<float> value) => -value;

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
    public static Vector256<float> Round(Vector256<float> value) => Vector256.Round(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ScaleByPowerOfTwo(Vector256<float> value, Vector256<float> n) =>
        value * Vector256.ShiftLeft(Vector256.ConvertToInt32Native(n) + Vector256.Create(127), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SelectGreater(Vector256<float> value, Vector256<float> limit, Vector256<float> whenGreater, Vector256<float> otherwise) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(value, limit), whenGreater, otherwise);

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
    public static Vector512<float> Negate(Vector512<float> value) => -value;

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
    public static Vector512<float> Round(Vector512<float> value) => Vector512.Round(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ScaleByPowerOfTwo(Vector512<float> value, Vector512<float> n) =>
        value * Vector512.ShiftLeft(Vector512.ConvertToInt32Native(n) + Vector512.Create(127), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SelectGreater(Vector512<float> value, Vector512<float> limit, Vector512<float> whenGreater, Vector512<float> otherwise) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(value, limit), whenGreater, otherwise);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> CopySign(Vector512<float> value, Vector512<float> sign) => Vector512.CopySign(value, sign);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool EqualsAll(Vector512<float> left, Vector512<float> right) => Vector512.EqualsAll(left, right);
}
