using System;
using System.Globalization;

namespace CnnGen;

/// <summary>
/// A named, dense, row-major tensor, immutable: its values are float32 whatever the file stored (see
/// <see cref="DType"/>), and callers see them read-only.
/// </summary>
public sealed class Tensor
{
    private readonly int[] _shape;
    private readonly float[] _data;

    /// <summary>Creates a float32 tensor from copies of <paramref name="shape"/> and <paramref name="data"/>.</summary>
    /// <param name="name">The tensor's name (for example <c>conv1.weight</c>).</param>
    /// <param name="shape">The dimensions, outermost first; every dimension must be non-negative. An empty shape is a scalar.</param>
    /// <param name="data">The elements in row-major order; its length must equal the product of <paramref name="shape"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">A dimension is negative, or the element count does not match the shape.</exception>
    public Tensor(string name, ReadOnlySpan<int> shape, ReadOnlySpan<float> data)
        : this(name, shape.ToArray(), data.ToArray(), TensorDType.F32)
    {
    }

    /// <summary>Takes ownership of <paramref name="shape"/> and <paramref name="data"/> (the loader's path: no copy).</summary>
    internal Tensor(string name, int[] shape, float[] data, TensorDType dtype)
    {
        ArgumentNullException.ThrowIfNull(name);
        long product = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"Tensor '{name}': dimension {dim} in shape {FormatShape(shape)} is negative.", nameof(shape));
            }

            product *= dim; // both factors are at most int.MaxValue here, so the long cannot overflow
            if (product > int.MaxValue)
            {
                throw new ArgumentException($"Tensor '{name}': shape {FormatShape(shape)} has more than {int.MaxValue} elements.", nameof(shape));
            }
        }

        if (product != data.Length)
        {
            throw new ArgumentException($"Tensor '{name}': shape {FormatShape(shape)} holds {product} elements but the data has {data.Length}.", nameof(data));
        }

        Name = name;
        DType = dtype;
        _shape = shape;
        _data = data;
    }

    /// <summary>The tensor's name.</summary>
    public string Name { get; }

    /// <summary>
    /// The element type the values were stored as. Integer and boolean tensors (such as batch norm's
    /// <c>num_batches_tracked</c> counter) are converted to float32 too, exactly for magnitudes up to 2^24;
    /// a generated network reads only floating-point tensors as parameters.
    /// </summary>
    public TensorDType DType { get; }

    /// <summary>The dimensions, outermost first; empty for a scalar.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>The elements in row-major order, as float32.</summary>
    public ReadOnlySpan<float> Data => _data;

    /// <summary>The elements in row-major order, as float32, for callers that must keep them beyond a span's scope.</summary>
    public ReadOnlyMemory<float> Memory => _data;

    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public int Length => _data.Length;

    /// <summary>The shape as text, for example <c>[6, 1, 5, 5]</c>.</summary>
    public string ShapeText => FormatShape(_shape);

    /// <summary>Returns the name and shape, for diagnostics.</summary>
    /// <returns>A short description.</returns>
    public override string ToString() => $"{Name} {ShapeText}";

    /// <summary>The stored array, for the loader's own read-only use (no copy).</summary>
    internal float[] Values => _data;

    internal static string FormatShape(ReadOnlySpan<int> shape)
    {
        var builder = new System.Text.StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(", ");
            }

            builder.Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }

        return builder.Append(']').ToString();
    }
}
