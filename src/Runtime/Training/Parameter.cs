using System;
using System.Collections.Generic;
using System.Globalization;

namespace CnnGen.Training;

/// <summary>Copies a tensor from one layout to another (see <see cref="ParameterLayout"/>).</summary>
/// <param name="source">The tensor in the source layout.</param>
/// <param name="destination">The tensor in the destination layout.</param>
public delegate void LayoutTransform(ReadOnlySpan<float> source, Span<float> destination);

/// <summary>
/// How a parameter's packed buffer (the layout the training kernels use, possibly with padded lanes) maps to
/// PyTorch's dense row-major layout. The optimizer never needs it for a step (it works element by element in
/// the packed layout); it is used to save and load parameters and optimizer state with PyTorch layouts.
/// </summary>
public sealed class ParameterLayout
{
    private readonly LayoutTransform _pack;
    private readonly LayoutTransform _unpack;

    /// <summary>Creates a layout.</summary>
    /// <param name="packedLength">The packed buffer's length (at least the PyTorch element count).</param>
    /// <param name="pack">
    /// PyTorch (dense, row-major) to packed. It receives a destination already cleared to zero and writes
    /// only the real elements, so padded lanes stay zero.
    /// </param>
    /// <param name="unpack">Packed to PyTorch; it must write every element of the destination.</param>
    /// <exception cref="ArgumentNullException">A delegate is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="packedLength"/> is negative.</exception>
    public ParameterLayout(int packedLength, LayoutTransform pack, LayoutTransform unpack)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(packedLength);
        ArgumentNullException.ThrowIfNull(pack);
        ArgumentNullException.ThrowIfNull(unpack);
        PackedLength = packedLength;
        _pack = pack;
        _unpack = unpack;
    }

    /// <summary>The packed buffer's length.</summary>
    public int PackedLength { get; }

    /// <summary>Writes <paramref name="pytorch"/> into <paramref name="packed"/>, clearing the padded lanes.</summary>
    /// <param name="pytorch">The dense PyTorch tensor.</param>
    /// <param name="packed">The packed buffer (<see cref="PackedLength"/> elements).</param>
    public void Pack(ReadOnlySpan<float> pytorch, Span<float> packed)
    {
        packed.Clear();
        _pack(pytorch, packed);
    }

    /// <summary>Writes <paramref name="packed"/> into <paramref name="pytorch"/> (dense, row-major).</summary>
    /// <param name="packed">The packed buffer.</param>
    /// <param name="pytorch">The dense PyTorch tensor.</param>
    public void Unpack(ReadOnlySpan<float> packed, Span<float> pytorch) => _unpack(packed, pytorch);
}

/// <summary>
/// A trainable tensor as the generated trainer hands it to an optimizer: its PyTorch <c>state_dict</c> name and
/// shape, a value buffer and a gradient buffer of the same length. The buffers are the trainer's own memory in
/// its kernels' layout (on 64-byte cache lines in a generated trainer); an optimizer updates <see cref="Value"/> in
/// place from <see cref="Gradient"/> and keeps its state (momentum, moments) in buffers of the same length and
/// layout. Padded lanes must hold zero value and zero gradient; every optimizer keeps them zero.
/// </summary>
public sealed class Parameter
{
    private readonly int[] _shape;
    private readonly Memory<float> _value;
    private readonly Memory<float> _gradient;

    /// <summary>Creates a parameter over two arrays (used as is, not copied).</summary>
    /// <param name="name">The PyTorch <c>state_dict</c> name, e.g. <c>conv1.weight</c>.</param>
    /// <param name="shape">The PyTorch shape (copied).</param>
    /// <param name="value">The values, in the packed layout.</param>
    /// <param name="gradient">The gradients, same length and layout, not the same array as the values.</param>
    /// <param name="layout">
    /// The mapping between the packed layout and PyTorch's; <see langword="null"/> when the arrays are
    /// PyTorch's dense row-major layout (their length is then the element count of <paramref name="shape"/>).
    /// </param>
    /// <exception cref="ArgumentNullException">
    /// <paramref name="name"/>, <paramref name="shape"/>, <paramref name="value"/> or <paramref name="gradient"/> is null
    /// (the message names the parameter).
    /// </exception>
    /// <exception cref="ArgumentException">
    /// The name is empty, the shape has a negative dimension, the lengths do not match, or the value and the gradient are one array.
    /// </exception>
    public Parameter(string name, int[] shape, float[] value, float[] gradient, ParameterLayout? layout = null)
        : this(name, shape, NotNull(value, name, nameof(value)), NotNull(gradient, name, nameof(gradient)), layout)
    {
    }

    /// <summary>Creates a parameter over two buffers (used as is, not copied).</summary>
    /// <param name="name">The PyTorch <c>state_dict</c> name, e.g. <c>conv1.weight</c>.</param>
    /// <param name="shape">The PyTorch shape (copied).</param>
    /// <param name="value">The values, in the packed layout (used as is, not copied): a window of an array (a default, empty <see cref="Memory{T}"/> holds no elements).</param>
    /// <param name="gradient">The gradients, same length and layout (used as is, not copied), not overlapping the values.</param>
    /// <param name="layout">
    /// The mapping between the packed layout and PyTorch's; <see langword="null"/> when the buffers are
    /// PyTorch's dense row-major layout (their length is then the element count of <paramref name="shape"/>).
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="shape"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The name is empty, the shape has a negative dimension, the lengths do not match, or the value and the gradient overlap.
    /// </exception>
    public Parameter(string name, int[] shape, Memory<float> value, Memory<float> gradient, ParameterLayout? layout = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (name.Length == 0)
        {
            throw new ArgumentException("A parameter needs a name (its PyTorch state_dict key).", nameof(name));
        }

        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"Parameter '{name}': shape {Format(shape)} has a negative dimension.", nameof(shape));
            }

            count *= dim;
            if (count > int.MaxValue)
            {
                throw new ArgumentException($"Parameter '{name}': shape {Format(shape)} has more than {int.MaxValue} elements.", nameof(shape));
            }
        }

        if (gradient.Length != value.Length)
        {
            throw new ArgumentException(
                $"Parameter '{name}': the gradient has {gradient.Length} floats but the value has {value.Length}; they must have the same length and layout.",
                nameof(gradient));
        }

        if (value.Span.Overlaps(gradient.Span))
        {
            throw new ArgumentException($"Parameter '{name}': the value and the gradient share memory.", nameof(gradient));
        }

        if (layout is null)
        {
            if (value.Length != count)
            {
                throw new ArgumentException(
                    $"Parameter '{name}': shape {Format(shape)} holds {count} elements but the value has {value.Length}; a packed (padded) buffer needs a ParameterLayout.",
                    nameof(value));
            }
        }
        else if (layout.PackedLength != value.Length || value.Length < count)
        {
            throw new ArgumentException(
                $"Parameter '{name}': the layout packs {layout.PackedLength} floats and the value has {value.Length}; the packed length must equal the value's and be at least the shape's {count} elements.",
                nameof(layout));
        }

        Name = name;
        _shape = (int[])shape.Clone();
        ElementCount = (int)count;
        _value = value;
        _gradient = gradient;
        Layout = layout;
    }

    /// <summary>The PyTorch <c>state_dict</c> name.</summary>
    public string Name { get; }

    /// <summary>
    /// Floats per block of a dense layer a trainer splits by output columns, or 0. The threads of a step own whole blocks,
    /// one output vector each (the weights in unit blocks, <c>[unit vector][feature][vector]</c>: a block is a vector's
    /// features; the bias: a block is a vector), and each writes, checks and updates only its own; else the threads update
    /// contiguous parts (<see cref="TrainingMath.Slice"/>).
    /// </summary>
    internal int ColumnBlockFloats { get; private set; }

    /// <summary>Makes the threads' parts of this parameter runs of whole blocks of <paramref name="blockFloats"/> floats (see <see cref="ColumnBlockFloats"/>).</summary>
    internal void SplitColumns(int blockFloats)
    {
        if (blockFloats <= 0 || PackedLength % blockFloats != 0)
        {
            throw new ArgumentException($"Parameter '{Name}': {PackedLength} floats do not split into blocks of {blockFloats} floats.");
        }

        ColumnBlockFloats = blockFloats;
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of the packed buffers, as threads updating at once share it:
    /// one contiguous run of <paramref name="length"/> floats from <paramref name="start"/>: whole column blocks (the
    /// blocks the generated kernels deal out, <see cref="TrainingMath.VectorPart"/>), else <see cref="TrainingMath.Slice"/>.
    /// </summary>
    internal void Part(int part, int parts, out int start, out int length)
    {
        if (ColumnBlockFloats == 0)
        {
            (start, length) = TrainingMath.Slice(PackedLength, part, parts);
            return;
        }

        int blocks = PackedLength / ColumnBlockFloats;
        int first = TrainingMath.VectorPart(blocks, part, parts), end = TrainingMath.VectorPart(blocks, part + 1, parts);
        start = first * ColumnBlockFloats;
        length = (end - first) * ColumnBlockFloats;
    }

    /// <summary>The PyTorch shape.</summary>
    public IReadOnlyList<int> Shape => _shape;

    private static Memory<float> NotNull(float[] buffer, string name, string parameter) =>
        buffer ?? throw new ArgumentNullException(parameter, $"Parameter '{name}': the {parameter} array is null.");

    /// <summary>The number of elements in PyTorch's layout (the product of <see cref="Shape"/>).</summary>
    public int ElementCount { get; }

    /// <summary>The values in the packed layout (live: the trainer's own memory).</summary>
    public Span<float> Value => _value.Span;

    /// <summary>The gradients in the packed layout (live: the trainer's own memory).</summary>
    public Span<float> Gradient => _gradient.Span;

    /// <summary>
    /// The values as the trainer holds them: the buffer behind <see cref="Value"/>, for code that cannot hold a span
    /// (a lambda, LINQ, an async method, a field). It is the trainer's own memory, not a copy.
    /// </summary>
    public Memory<float> ValueMemory => _value;

    /// <summary>
    /// The gradients as the trainer holds them: the buffer behind <see cref="Gradient"/>, for code that cannot hold a
    /// span. It is the trainer's own memory, not a copy.
    /// </summary>
    public Memory<float> GradientMemory => _gradient;

    /// <summary>The layout mapping; <see langword="null"/> when the buffers use PyTorch's layout.</summary>
    public ParameterLayout? Layout { get; }

    /// <summary>The length of <see cref="Value"/>, <see cref="Gradient"/> and every optimizer buffer.</summary>
    public int PackedLength => _value.Length;

    /// <summary>The shape as text, for example <c>[6, 1, 5, 5]</c>.</summary>
    public string ShapeText => Format(_shape);

    /// <summary>Converts a buffer in this parameter's packed layout to PyTorch's layout.</summary>
    /// <param name="packed">A buffer of <see cref="PackedLength"/> floats (the value, the gradient or an optimizer buffer).</param>
    /// <param name="pytorch">The destination, <see cref="ElementCount"/> floats.</param>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    public void ToPyTorch(ReadOnlySpan<float> packed, Span<float> pytorch)
    {
        CheckLengths(packed.Length, pytorch.Length);
        if (Layout is null)
        {
            packed.CopyTo(pytorch);
        }
        else
        {
            Layout.Unpack(packed, pytorch);
        }
    }

    /// <summary>Converts a tensor in PyTorch's layout to this parameter's packed layout; padded lanes become zero.</summary>
    /// <param name="pytorch">The source, <see cref="ElementCount"/> floats.</param>
    /// <param name="packed">The destination, <see cref="PackedLength"/> floats.</param>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    public void FromPyTorch(ReadOnlySpan<float> pytorch, Span<float> packed)
    {
        CheckLengths(packed.Length, pytorch.Length);
        if (Layout is null)
        {
            pytorch.CopyTo(packed);
        }
        else
        {
            Layout.Pack(pytorch, packed);
        }
    }

    /// <summary>Returns the value as a PyTorch tensor (a copy, named <see cref="Name"/>).</summary>
    /// <returns>The tensor.</returns>
    public Tensor ValueTensor() => ToTensor(Name, Value);

    /// <summary>Returns a buffer of this parameter's layout as a PyTorch tensor (a copy) under the given name.</summary>
    /// <param name="name">The tensor's name.</param>
    /// <param name="packed">A buffer of <see cref="PackedLength"/> floats.</param>
    /// <returns>The tensor, with this parameter's shape.</returns>
    public Tensor ToTensor(string name, ReadOnlySpan<float> packed)
    {
        var data = new float[ElementCount];
        ToPyTorch(packed, data);
        return new Tensor(name, _shape, data);
    }

    /// <summary>Sets the value from a PyTorch tensor, checking its shape and that every element is finite.</summary>
    /// <param name="tensor">The tensor (its name is not checked).</param>
    /// <exception cref="WeightsException">The shape differs or an element is NaN or infinite; the value is unchanged.</exception>
    public void SetValue(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        CheckTensor(tensor, Name);
        FromPyTorch(tensor.Data, Value);
    }

    /// <summary>Returns the parameter's name and shape.</summary>
    /// <returns>For example <c>conv1.weight [6, 1, 5, 5]</c>.</returns>
    public override string ToString() => $"{Name} {ShapeText}";

    /// <summary>Checks that a tensor has this parameter's shape and finite elements.</summary>
    internal void CheckTensor(Tensor tensor, string what)
    {
        if (!SameShape(tensor.Shape))
        {
            throw new WeightsException(
                $"tensor '{tensor.Name}' has shape {tensor.ShapeText} but {what} needs {ShapeText}.", tensor.Name);
        }

        int bad = TrainingMath.FirstNonFinite(tensor.Data);
        if (bad >= 0)
        {
            throw new WeightsException(
                string.Format(CultureInfo.InvariantCulture, "tensor '{0}' has {1} at element {2}; only finite values can be loaded.", tensor.Name, tensor.Data[bad], bad),
                tensor.Name);
        }
    }

    internal bool SameShape(ReadOnlySpan<int> shape) => shape.SequenceEqual(_shape);

    /// <summary>
    /// The error for a gradient known to hold NaN or infinity at step <paramref name="step"/>: names this parameter and its
    /// first bad element (what the optimizers and clipping throw).
    /// </summary>
    internal NonFiniteGradientException NonFiniteGradient(long step)
    {
        int bad = TrainingMath.FirstNonFinite(Gradient);
        return new NonFiniteGradientException(Name, step, bad, Gradient[bad]);
    }

    private void CheckLengths(int packed, int pytorch)
    {
        if (packed != PackedLength)
        {
            throw new ArgumentException($"Parameter '{Name}': the packed buffer has {packed} floats; expected {PackedLength}.", nameof(packed));
        }

        if (pytorch != ElementCount)
        {
            throw new ArgumentException($"Parameter '{Name}': the PyTorch tensor has {pytorch} floats; shape {ShapeText} holds {ElementCount}.", nameof(pytorch));
        }
    }

    private static string Format(int[] shape) => "[" + string.Join(", ", Array.ConvertAll(shape, d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}
