namespace CnnGen.Generator.Model;

/// <summary>The kind of a declared layer.</summary>
internal enum LayerKind
{
    Conv2D,
    Dense,
    MaxPool2D,
    AvgPool2D,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    Flatten,
    Dropout,
    Activation,
    BatchNorm2D,
    Add,
    Concat,
}

/// <summary>
/// One declared layer, as the user wrote it, with defaults resolved. Immutable and structurally equal: it holds
/// only strings, numbers, enums and equatable arrays, never a Roslyn symbol or location.
/// </summary>
internal sealed record LayerSpec(
    LayerKind Kind,
    string Name,
    EquatableArray<string> Inputs,
    int Units,
    int KernelH,
    int KernelW,
    int StrideH,
    int StrideW,
    int PadTop,
    int PadLeft,
    int PadBottom,
    int PadRight,
    bool PadSame,
    int DilationH,
    int DilationW,
    int Groups,
    bool Bias,
    Activation Activation,
    float Alpha,
    bool CeilMode,
    bool CountIncludePad,
    float Eps)
{
    /// <summary>The attribute's class name without the suffix, as the user wrote it (Conv2D, ReLU, ...).</summary>
    public string DisplayKind { get; init; } = Kind.ToString();
}

/// <summary>A containing type of a nested network class.</summary>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>Everything the generator knows about one network, independent of Roslyn.</summary>
internal sealed record NetworkSpec(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string ClassName,
    string Accessibility,
    int InputC,
    int InputH,
    int InputW,
    EquatableArray<LayerSpec> Layers,
    string? OutputName);
