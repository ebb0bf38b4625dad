namespace CnnGen.Generator.Emit;

/// <summary>
/// The names generated code uses for everything it does not declare itself: one place to read (and to change when
/// the runtime moves a type). Generated code lives inside the user's namespace and partial class, where the user can
/// declare anything: a type named <c>Unsafe</c> in the namespace, or a member named <c>Math</c> in the class, hides
/// a simple name, and a using alias cannot be protected either (an alias clashes with a namespace member of the same
/// name, and class members hide it). So every name here is <c>global::</c>-qualified; the emitter writes no other
/// type name (see docs/ARCHITECTURE.md, "Generated-code hygiene").
/// </summary>
internal static class Code
{
    public const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";
    public const string MemoryMarshal = "global::System.Runtime.InteropServices.MemoryMarshal";
    public const string Span = "global::System.Span";
    public const string ReadOnlySpan = "global::System.ReadOnlySpan";
    public const string ReadOnlyMemory = "global::System.ReadOnlyMemory";
    public const string Memory = "global::System.Memory";
    public const string Math = "global::System.Math";
    public const string Array = "global::System.Array";
    public const string ArgumentException = "global::System.ArgumentException";
    public const string ArgumentOutOfRangeException = "global::System.ArgumentOutOfRangeException";
    public const string ArithmeticException = "global::System.ArithmeticException";
    public const string ThreadStatic = "global::System.ThreadStatic";
    public const string GeneratedCode = "global::System.CodeDom.Compiler.GeneratedCode";
    public const string Stream = "global::System.IO.Stream";
    public const string IOException = "global::System.IO.IOException";

    /// <summary>The attribute on every kernel: optimize at first call (no tiering), the loops are hot from the start.</summary>
    public const string AggressiveOptimization = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]";

    /// <summary>The same attribute inside a kernel class, through the vocabulary's <c>Hot</c> constant (see <see cref="Kernels.KernelWriter.Vocabulary"/>).</summary>
    public const string Hot = "[global::System.Runtime.CompilerServices.MethodImpl(Hot)]";

    // The CnnGen runtime.
    public const string INetwork = "global::CnnGen.INetwork";
    public const string VectorWidth = "global::CnnGen.VectorWidth";
    public const string LoadOptions = "global::CnnGen.LoadOptions";
    public const string TensorSet = "global::CnnGen.TensorSet";
    public const string WeightsException = "global::CnnGen.WeightsException";
    public const string Simd = "global::CnnGen.Internal.Simd";
    public const string Guard = "global::CnnGen.Internal.Guard";
    public const string Buffers = "global::CnnGen.Internal.Buffers";
    public const string Packing = "global::CnnGen.Internal.Packing";
    public const string Transpose = "global::CnnGen.Internal.Transpose";
    public const string WeightReader = "global::CnnGen.Internal.WeightReader";
    public const string Parallelism = "global::CnnGen.Internal.Parallelism";
    public const string BatchSlice = "global::CnnGen.Internal.BatchSlice";
    public const string ImageShare = "global::CnnGen.Internal.ImageShare";

    // Training (the generated trainer).
    public const string NetworkTrainer = "global::CnnGen.Training.NetworkTrainer";
    public const string TrainerOptions = "global::CnnGen.Training.TrainerOptions";
    public const string Parameter = "global::CnnGen.Training.Parameter";
    public const string ParameterLayout = "global::CnnGen.Training.ParameterLayout";
    public const string Initialization = "global::CnnGen.Training.Initialization";
    public const string BatchNormTraining = "global::CnnGen.Internal.BatchNormTraining";
    public const string TrainingLayouts = "global::CnnGen.Internal.TrainingLayouts";
    public const string TrainingBuffers = "global::CnnGen.Internal.TrainingBuffers";

    /// <summary>
    /// A trainer's parameter, gradient and transposed buffers and a bias-less layer's zero bias: windows on 64-byte lines
    /// (<c>TrainingBuffers.LineAligned</c>).
    /// </summary>
    public const string TrainingBuffer = "global::System.Memory<float>";

    /// <summary>The static vector class of a width (<c>global::System.Runtime.Intrinsics.Vector256</c>); <c>&lt;float&gt;</c> makes the vector type.</summary>
    public static string Vector(int width) => "global::System.Runtime.Intrinsics.Vector" + SourceWriter.Int(width * 32);
}
