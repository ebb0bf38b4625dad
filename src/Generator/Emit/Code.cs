namespace CnnGen.Generator.Emit;

/// <summary>
/// The names generated code uses for everything it does not declare itself: one place to read (and to change when
/// the runtime moves a type). Generated code lives inside the user's class and namespace, where the user can
/// declare anything, so these names must not be bindable to a user's type.
/// </summary>
internal static class Code
{
    public const string Unsafe = "Unsafe";
    public const string MemoryMarshal = "MemoryMarshal";
    public const string Span = "Span";
    public const string ReadOnlySpan = "ReadOnlySpan";
    public const string ReadOnlyMemory = "ReadOnlyMemory";
    public const string Memory = "Memory";
    public const string Math = "Math";
    public const string Array = "Array";
    public const string ArgumentException = "ArgumentException";
    public const string ArgumentOutOfRangeException = "ArgumentOutOfRangeException";
    public const string ThreadStatic = "ThreadStatic";
    public const string GeneratedCode = "global::System.CodeDom.Compiler.GeneratedCode";
    public const string Stream = "global::System.IO.Stream";

    /// <summary>The attribute on every kernel: optimize at first call (no tiering), the loops are hot from the start.</summary>
    public const string AggressiveOptimization = "[MethodImpl(MethodImplOptions.AggressiveOptimization)]";

    // The CnnGen runtime.
    public const string INetwork = "global::CnnGen.INetwork";
    public const string VectorWidth = "global::CnnGen.VectorWidth";
    public const string LoadOptions = "global::CnnGen.LoadOptions";
    public const string TensorSet = "global::CnnGen.TensorSet";
    public const string WeightsException = "global::CnnGen.WeightsException";
    public const string Simd = "global::CnnGen.Simd";
    public const string Guard = "Guard";
    public const string Buffers = "Buffers";
    public const string Packing = "Packing";
    public const string Transpose = "Transpose";
    public const string WeightReader = "WeightReader";
    public const string Parallelism = "Parallelism";

    /// <summary>The static vector class of a width (<c>Vector256</c>); <c>&lt;float&gt;</c> makes the vector type.</summary>
    public static string Vector(int width) => "Vector" + SourceWriter.Int(width * 32);
}
