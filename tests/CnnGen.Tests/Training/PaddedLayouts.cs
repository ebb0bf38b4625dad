using System;
using System.Linq;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>Packed layouts like the generated kernels' (transposed, output dimension padded to the vector width) for tests.</summary>
public static class PaddedLayouts
{
    /// <summary>
    /// A parameter whose packed buffer is the PyTorch tensor seen as [rows, cols] (rows = shape[0], cols = the
    /// rest; a 1-D tensor is one column), transposed to [cols, rowsPadded] with rows padded to a multiple of
    /// <paramref name="multiple"/>: packed[c * rowsPadded + r] = dense[r * cols + c]. Value and gradient zero.
    /// </summary>
    public static Parameter RowPadded(string name, int[] shape, int multiple)
    {
        int rows = shape.Length == 0 ? 1 : shape[0];
        int cols = shape.Skip(1).Aggregate(1, (a, b) => a * b);
        int padded = (rows + multiple - 1) / multiple * multiple;
        int length = padded * cols;
        var layout = new ParameterLayout(
            length,
            (dense, packed) =>
            {
                for (int r = 0; r < rows; r++)
                {
                    for (int c = 0; c < cols; c++)
                    {
                        packed[(c * padded) + r] = dense[(r * cols) + c];
                    }
                }
            },
            (packed, dense) =>
            {
                for (int r = 0; r < rows; r++)
                {
                    for (int c = 0; c < cols; c++)
                    {
                        dense[(r * cols) + c] = packed[(c * padded) + r];
                    }
                }
            });
        return new Parameter(name, shape, new float[length], new float[length], layout);
    }

    /// <summary>True for the packed lanes no PyTorch element maps to.</summary>
    public static bool[] PaddingMask(Parameter p)
    {
        var ones = new float[p.ElementCount];
        ones.AsSpan().Fill(1f);
        var packed = new float[p.PackedLength];
        p.FromPyTorch(ones, packed);
        return packed.Select(v => v == 0f).ToArray();
    }

    /// <summary>Asserts that the padded lanes of the value, the gradient and every optimizer buffer are +0.</summary>
    public static void AssertPaddingZero(Parameter p, Optimizer? optimizer = null)
    {
        bool[] padding = PaddingMask(p);
        Assert.That(padding.Count(x => x), Is.EqualTo(p.PackedLength - p.ElementCount), $"{p.Name}: padded lanes");
        void Check(ReadOnlySpan<float> buffer, string what)
        {
            for (int i = 0; i < buffer.Length; i++)
            {
                if (padding[i] && BitConverter.SingleToInt32Bits(buffer[i]) != 0)
                {
                    Assert.Fail($"{p.Name} {what}: padded lane {i} holds {buffer[i]:R}");
                }
            }
        }

        Check(p.Value, "value");
        Check(p.Gradient, "gradient");
        if (optimizer is not null)
        {
            foreach (OptimizerBuffer buffer in optimizer.Buffers.Where(b => b.Parameter == p))
            {
                Check(buffer.Data, buffer.Name);
            }
        }
    }
}
