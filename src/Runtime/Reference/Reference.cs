using System;
using System.Numerics;

namespace CnnGen;

/// <summary>
/// Plain scalar reference implementations of every layer, forward and backward, written from the definitions in the
/// PyTorch conformance suite. They favour being obviously correct over speed, share nothing with the generator and
/// serve as the oracle for generated code and for gradients. <see cref="Reference"/> is the float32 instance (the
/// precision of the generated code); <c>Reference&lt;double&gt;</c> runs the same definitions in double, which is what
/// finite-difference gradient checks want.
/// </summary>
/// <remarks>
/// <para>Layout is NCHW. Layer functions take one image <c>[channels, height, width]</c> (or a feature vector), as the
/// forward pass runs image by image; batch norm in training mode, dropout's counter and the losses see the whole batch
/// <c>[batch, ...]</c>, with the batch size right after the input.</para>
/// <para>Every backward function is named after its forward function with <c>Backward</c> appended and takes the
/// forward's parameters in the same order, leaving out those its gradient does not need (a bias, the output); the
/// forward's <c>output</c> is replaced by <c>outputGrad</c> (d loss / d output), followed by the gradients in the order
/// of the values they belong to (<c>inputGrad</c>, <c>weightGrad</c>, <c>biasGrad</c>...). Backward functions take the
/// forward's inputs, never its outputs: what they need is recomputed from the definitions.</para>
/// <para>Input gradients are overwritten. Parameter gradients are accumulated (added to), like PyTorch's
/// <c>.grad</c>, so calling the backward function for each image of a batch sums them; clear them before a step.
/// An empty bias gradient means the layer has no bias.</para>
/// <para>Every method validates its span lengths and arguments and throws <see cref="ArgumentException"/> giving the
/// expected and actual sizes; nothing is written before the arguments are validated.</para>
/// </remarks>
/// <typeparam name="T">The floating-point type the arithmetic runs in (<see cref="float"/> or <see cref="double"/>).</typeparam>
public abstract partial class Reference<T>
    where T : IFloatingPointIeee754<T>
{
    private static readonly T Six = T.CreateChecked(6);

    private static readonly T DefaultLeakySlope = T.CreateChecked(0.01);

    /// <summary>Only <see cref="Reference"/> derives from this class; it has static members only.</summary>
    private protected Reference()
    {
    }

    /// <summary>
    /// Output size of a convolution: <c>floor((in + padBefore + padAfter - dilation*(k-1) - 1) / stride) + 1</c> per axis.
    /// </summary>
    /// <param name="inH">Input height.</param>
    /// <param name="inW">Input width.</param>
    /// <param name="kH">Kernel height.</param>
    /// <param name="kW">Kernel width.</param>
    /// <param name="strideH">Vertical stride.</param>
    /// <param name="strideW">Horizontal stride.</param>
    /// <param name="padTop">Zero rows added above.</param>
    /// <param name="padLeft">Zero columns added on the left.</param>
    /// <param name="padBottom">Zero rows added below.</param>
    /// <param name="padRight">Zero columns added on the right.</param>
    /// <param name="dilationH">Vertical dilation.</param>
    /// <param name="dilationW">Horizontal dilation.</param>
    /// <returns>The output height and width.</returns>
    /// <exception cref="ArgumentException">A parameter is out of range or the (padded) input is smaller than the dilated kernel.</exception>
    public static (int Height, int Width) ConvOutputSize(int inH, int inW, int kH, int kW, int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW)
    {
        int height = ConvAxis(inH, kH, strideH, padTop, padBottom, dilationH, "height");
        int width = ConvAxis(inW, kW, strideW, padLeft, padRight, dilationW, "width");
        return (height, width);
    }

    /// <summary>
    /// Output size of a PyTorch pool: <c>floor-or-ceil((in + 2*pad - dilation*(k-1) - 1) / stride) + 1</c> per axis; in ceil mode
    /// the last window is dropped when it would start in the bottom/right padding (<c>(out-1)*stride &gt;= in + pad</c>).
    /// </summary>
    /// <param name="inH">Input height.</param>
    /// <param name="inW">Input width.</param>
    /// <param name="kH">Window height.</param>
    /// <param name="kW">Window width.</param>
    /// <param name="strideH">Vertical stride.</param>
    /// <param name="strideW">Horizontal stride.</param>
    /// <param name="padH">Padding on the top and on the bottom.</param>
    /// <param name="padW">Padding on the left and on the right.</param>
    /// <param name="dilationH">Vertical dilation.</param>
    /// <param name="dilationW">Horizontal dilation.</param>
    /// <param name="ceilMode">PyTorch <c>ceil_mode</c>.</param>
    /// <returns>The output height and width.</returns>
    /// <exception cref="ArgumentException">A parameter is out of range (PyTorch requires <c>pad &lt;= k/2</c>) or the output would be empty.</exception>
    public static (int Height, int Width) PoolOutputSize(int inH, int inW, int kH, int kW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, bool ceilMode)
    {
        int height = PoolAxis(inH, kH, strideH, padH, dilationH, ceilMode, "height");
        int width = PoolAxis(inW, kW, strideW, padW, dilationW, ceilMode, "width");
        return (height, width);
    }

    private static int ConvAxis(int size, int kernel, int stride, int padBefore, int padAfter, int dilation, string axis)
    {
        Positive(size, "in" + axis);
        Positive(kernel, "kernel " + axis);
        Positive(stride, "stride " + axis);
        Positive(dilation, "dilation " + axis);
        NonNegative(padBefore, "padding before (" + axis + ")");
        NonNegative(padAfter, "padding after (" + axis + ")");
        long span = ((long)dilation * (kernel - 1)) + 1;
        long padded = (long)size + padBefore + padAfter;
        if (padded < span)
        {
            throw new ArgumentException($"The padded input {axis} ({padded}) is smaller than the dilated kernel ({span}).", axis);
        }

        long result = ((padded - span) / stride) + 1;
        if (result > int.MaxValue)
        {
            throw new ArgumentException($"The output {axis} ({result}) is too large.", axis);
        }

        return (int)result;
    }

    private static int PoolAxis(int size, int kernel, int stride, int pad, int dilation, bool ceilMode, string axis)
    {
        Positive(size, "in" + axis);
        Positive(kernel, "kernel " + axis);
        Positive(stride, "stride " + axis);
        Positive(dilation, "dilation " + axis);
        NonNegative(pad, "padding " + axis);
        if (pad > kernel / 2)
        {
            throw new ArgumentException($"Pool padding {pad} must be at most half the kernel size {kernel} ({axis}), as PyTorch requires.", axis);
        }

        long span = ((long)dilation * (kernel - 1)) + 1;
        long numerator = (long)size + (2L * pad) - span;
        if (numerator < 0)
        {
            throw new ArgumentException($"The padded input {axis} ({size + (2L * pad)}) is smaller than the dilated window ({span}).", axis);
        }

        long result = (ceilMode ? (numerator + stride - 1) / stride : numerator / stride) + 1;
        if (ceilMode && (result - 1) * stride >= size + pad)
        {
            result--;
        }

        if (result > int.MaxValue)
        {
            throw new ArgumentException($"The output {axis} ({result}) is too large.", axis);
        }

        return (int)result;
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentException($"{name} must be positive; got {value}.", name);
        }
    }

    private static void NonNegative(int value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentException($"{name} must not be negative; got {value}.", name);
        }
    }

    private static void CheckLength(ReadOnlySpan<T> span, long expected, string name)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException($"{name} has {span.Length} elements; expected {expected}.", name);
        }
    }

    private static void CheckLength(Span<T> span, long expected, string name) => CheckLength((ReadOnlySpan<T>)span, expected, name);

    /// <summary>Checks an optional span (a bias or its gradient): empty, or exactly <paramref name="expected"/> long.</summary>
    private static void CheckOptionalLength(ReadOnlySpan<T> span, long expected, string name)
    {
        if (!span.IsEmpty)
        {
            CheckLength(span, expected, name);
        }
    }
}

/// <summary>
/// The float32 reference layers: every member is inherited from <see cref="Reference{T}"/> with <c>T</c> =
/// <see cref="float"/>, the precision of the generated code (for example <c>Reference.Conv2D(...)</c>,
/// <c>Reference.Conv2DBackward(...)</c>). See <see cref="Reference{T}"/> for the conventions.
/// </summary>
public sealed class Reference : Reference<float>
{
    private Reference()
    {
    }
}
