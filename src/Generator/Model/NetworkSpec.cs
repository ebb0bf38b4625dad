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
    Multiply,
    AdaptiveAvgPool2D,
}

/// <summary>
/// One declared layer, as the user wrote it, with defaults resolved. Immutable and structurally equal: it holds
/// only strings, numbers, enums and equatable arrays, never a Roslyn symbol or location. Every field takes part in
/// the spec hash (<see cref="SpecHash"/>) without being listed there.
/// </summary>
internal sealed record LayerSpec
{
    /// <summary>What the layer does.</summary>
    public required LayerKind Kind { get; init; }

    /// <summary>The attribute's class name without the suffix, as the user wrote it (Conv2D, ReLU, ...).</summary>
    public required string DisplayKind { get; init; }

    /// <summary>The layer's name: the state_dict prefix of its weights, and what later layers read it by.</summary>
    public required string Name { get; init; }

    /// <summary>The names of the layers (or <c>input</c>) it reads.</summary>
    public required EquatableArray<string> Inputs { get; init; }

    /// <summary>Filters of a convolution, units of a dense layer; 0 otherwise.</summary>
    public int Units { get; init; }

    public int KernelH { get; init; } = 1;

    public int KernelW { get; init; } = 1;

    public int StrideH { get; init; } = 1;

    public int StrideW { get; init; } = 1;

    public int PadTop { get; init; }

    public int PadLeft { get; init; }

    public int PadBottom { get; init; }

    public int PadRight { get; init; }

    /// <summary>PaddingMode.Same: shape inference replaces the four pads with PyTorch's 'same' padding.</summary>
    public bool PadSame { get; init; }

    public int DilationH { get; init; } = 1;

    public int DilationW { get; init; } = 1;

    public int Groups { get; init; } = 1;

    public bool Bias { get; init; }

    /// <summary>The activation applied after the layer (the layer itself for activation layers).</summary>
    public Activation Activation { get; init; }

    /// <summary>LeakyReLU's negative slope.</summary>
    public float Alpha { get; init; } = 0.01f;

    public bool CeilMode { get; init; }

    public bool CountIncludePad { get; init; } = true;

    /// <summary>Batch norm's epsilon.</summary>
    public float Eps { get; init; } = 1e-5f;

    /// <summary>An adaptive pool's output height; 0 otherwise.</summary>
    public int OutputH { get; init; }

    /// <summary>An adaptive pool's output width; 0 otherwise.</summary>
    public int OutputW { get; init; }

    /// <summary>Dropout's drop probability (active in training only).</summary>
    public float DropoutP { get; init; } = 0.5f;
}

/// <summary>
/// A containing type of a nested network class: the keywords a partial part of it starts with (<c>partial class</c>,
/// <c>ref partial struct</c>, <c>partial record struct</c>...), its name as C# writes it (<c>@class</c> for a keyword)
/// and its type parameter list (<c>&lt;T, U&gt;</c>, or empty).
/// </summary>
internal sealed record ContainingType(string Keyword, string Name, string TypeParameters = "");

/// <summary>Everything the generator knows about one network, independent of Roslyn.</summary>
internal sealed record NetworkSpec
{
    /// <summary>The class's namespace, or null for the global namespace.</summary>
    public required string? Namespace { get; init; }

    /// <summary>The types the class is nested in, outermost first.</summary>
    public required EquatableArray<ContainingType> ContainingTypes { get; init; }

    /// <summary>The class's name as C# writes it: an identifier that is a keyword is escaped (<c>@class</c>).</summary>
    public required string ClassName { get; init; }

    /// <summary><c>class</c>, or <c>record</c> for a record class: the keyword generated partial declarations repeat.</summary>
    public string ClassKeyword { get; init; } = "class";

    /// <summary>The class's declared accessibility as C# keywords (<c>public</c>, <c>internal</c>, ...).</summary>
    public required string Accessibility { get; init; }

    public required int InputC { get; init; }

    public required int InputH { get; init; }

    public required int InputW { get; init; }

    /// <summary>The layers in declaration order.</summary>
    public required EquatableArray<LayerSpec> Layers { get; init; }

    /// <summary>The layer named by <c>[Network(Output = ...)]</c>, or null for the last layer.</summary>
    public required string? OutputName { get; init; }

    /// <summary><c>[Network(Trainable = true)]</c>: a trainer is generated too.</summary>
    public bool Trainable { get; init; }

    /// <summary><c>[Network(Winograd = false)]</c> turns Winograd convolutions off (every convolution is computed directly).</summary>
    public bool Winograd { get; init; } = true;
}
