using System;
using System.Globalization;

namespace CnnGen;

/// <summary>A named, dense, row-major float32 tensor.</summary>
public sealed class Tensor
{
    /// <summary>Creates a tensor. The shape is copied; the data array is used as is (not copied).</summary>
    /// <param name="name">The tensor's name (for example <c>conv1.weight</c>).</param>
    /// <param name="shape">The dimensions, outermost first; every dimension must be non-negative. An empty shape is a scalar.</param>
    /// <param name="data">The elements in row-major order; its length must equal the product of <paramref name="shape"/>.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A dimension is negative, or the element count does not match the shape.</exception>
    public Tensor(string name, int[] shape, float[] data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long product = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"Tensor '{name}': dimension {dim} in shape {FormatShape(shape)} is negative.", nameof(shape));
            }

            try
            {
                product = checked(product * dim);
            }
            catch (OverflowException)
            {
                throw new ArgumentException($"Tensor '{name}': the element count of shape {FormatShape(shape)} overflows.", nameof(shape));
            }

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
        Shape = (int[])shape.Clone();
        Data = data;
    }

    /// <summary>The tensor's name.</summary>
    public string Name { get; }

    /// <summary>The dimensions, outermost first (a private copy of the array given to the constructor).</summary>
    public int[] Shape { get; }

    /// <summary>The elements in row-major order.</summary>
    public float[] Data { get; }

    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public int Length => Data.Length;

    /// <summary>The shape as text, for example <c>[6, 1, 5, 5]</c>.</summary>
    public string ShapeText => FormatShape(Shape);

    /// <summary>Returns the name, shape and element count, for diagnostics.</summary>
    /// <returns>A short description.</returns>
    public override string ToString() => $"{Name} {ShapeText}";

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
