using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;

namespace CnnGen.Tests.Backward;

/// <summary>The shape of one item of a batch: <c>[C, H, W]</c>; a feature vector is <c>[features, 1, 1]</c>.</summary>
public readonly record struct Shape(int C, int H, int W)
{
    public int Size => C * H * W;

    public override string ToString() => $"[{C}, {H}, {W}]";
}

/// <summary>A trained tensor with its PyTorch name and layout, and the gradient of the loss with respect to it.</summary>
public sealed class Parameter<T>
    where T : IFloatingPointIeee754<T>
{
    public Parameter(string name, params int[] shape)
    {
        Name = name;
        Shape = shape;
        int length = shape.Aggregate(1, (a, b) => checked(a * b));
        Value = new T[length];
        Grad = new T[length];
    }

    /// <summary>PyTorch <c>state_dict</c> key, e.g. <c>conv1.weight</c>.</summary>
    public string Name { get; }

    public int[] Shape { get; }

    /// <summary>The values (an optimizer updates them in place).</summary>
    public T[] Value { get; }

    /// <summary>d loss / d value, accumulated by the backward pass until cleared.</summary>
    public T[] Grad { get; }

    public override string ToString() => Name;
}

/// <summary>
/// A layer of the test's reference network executor: batch-level forward and backward around the per-image
/// <see cref="Reference{T}"/> functions. The forward pass keeps what the backward pass needs (its inputs).
/// </summary>
public abstract class Layer<T>
    where T : IFloatingPointIeee754<T>
{
    private IReadOnlyList<T[]> _inputs = Array.Empty<T[]>();

    protected Layer(string name, IReadOnlyList<Shape> inputShapes, Shape output)
    {
        Name = name;
        InputShapes = inputShapes;
        Output = output;
    }

    protected delegate void ItemForward(ReadOnlySpan<T> input, Span<T> output);

    protected delegate void ItemBackward(ReadOnlySpan<T> input, ReadOnlySpan<T> outputGrad, Span<T> inputGrad);

    public string Name { get; }

    public IReadOnlyList<Shape> InputShapes { get; }

    public Shape Output { get; }

    /// <summary>Trained tensors, in PyTorch's order.</summary>
    public virtual IReadOnlyList<Parameter<T>> Parameters => Array.Empty<Parameter<T>>();

    /// <summary>Untrained state saved with the weights (batch norm's running statistics): name and values.</summary>
    public virtual IReadOnlyList<(string Name, T[] Value)> Buffers => Array.Empty<(string, T[])>();

    protected Shape In => InputShapes[0];

    /// <summary>The inputs of the last forward pass.</summary>
    protected IReadOnlyList<T[]> Inputs => _inputs;

    /// <summary>Runs the layer on a batch and remembers its inputs for <see cref="Backward"/>.</summary>
    public T[] Forward(IReadOnlyList<T[]> inputs, int batch, bool training)
    {
        _inputs = inputs;
        return Run(batch, training);
    }

    /// <summary>d loss / d input for each input, given d loss / d output; accumulates the parameter gradients.</summary>
    public abstract T[][] Backward(T[] outputGrad, int batch);

    public override string ToString() => $"{GetType().Name.Split('`')[0]} {Name} {Output}";

    protected abstract T[] Run(int batch, bool training);

    /// <summary>Applies a per-image forward function to every item of the first input.</summary>
    protected T[] MapItems(int batch, ItemForward forward)
    {
        var output = new T[batch * Output.Size];
        for (int n = 0; n < batch; n++)
        {
            forward(Inputs[0].AsSpan(n * In.Size, In.Size), output.AsSpan(n * Output.Size, Output.Size));
        }

        return output;
    }

    /// <summary>Applies a per-image backward function to every item; returns the first input's gradient.</summary>
    protected T[] MapItemsBack(int batch, T[] outputGrad, ItemBackward backward)
    {
        var inputGrad = new T[batch * In.Size];
        for (int n = 0; n < batch; n++)
        {
            backward(Inputs[0].AsSpan(n * In.Size, In.Size), outputGrad.AsSpan(n * Output.Size, Output.Size), inputGrad.AsSpan(n * In.Size, In.Size));
        }

        return inputGrad;
    }
}

/// <summary>Convolution; parameters <c>name.weight</c> <c>[filters, C/groups, kH, kW]</c> and (with bias) <c>name.bias</c>.</summary>
public sealed class Conv2DLayer<T> : Layer<T>
    where T : IFloatingPointIeee754<T>
{
    private readonly int _kH, _kW, _strideH, _strideW, _padTop, _padLeft, _padBottom, _padRight, _dilationH, _dilationW, _groups;
    private readonly Parameter<T> _weight;
    private readonly Parameter<T>? _bias;

    public Conv2DLayer(string name, Shape input, int filters, (int H, int W) kernel, (int H, int W) stride, (int Top, int Left, int Bottom, int Right) padding, (int H, int W) dilation, int groups, bool bias)
        : base(name, new[] { input }, OutputShape(input, filters, kernel, stride, padding, dilation))
    {
        (_kH, _kW, _strideH, _strideW, _dilationH, _dilationW, _groups) = (kernel.H, kernel.W, stride.H, stride.W, dilation.H, dilation.W, groups);
        (_padTop, _padLeft, _padBottom, _padRight) = padding;
        _weight = new Parameter<T>(name + ".weight", filters, input.C / groups, kernel.H, kernel.W);
        _bias = bias ? new Parameter<T>(name + ".bias", filters) : null;
    }

    public override IReadOnlyList<Parameter<T>> Parameters => _bias is null ? new[] { _weight } : new[] { _weight, _bias };

    public override T[][] Backward(T[] outputGrad, int batch) => new[]
    {
        MapItemsBack(batch, outputGrad, (x, dy, dx) => Reference<T>.Conv2DBackward(
            x, In.C, In.H, In.W, _weight.Value, Output.C, _kH, _kW, _strideH, _strideW, _padTop, _padLeft, _padBottom, _padRight, _dilationH, _dilationW, _groups,
            dy, dx, _weight.Grad, _bias?.Grad)),
    };

    protected override T[] Run(int batch, bool training) => MapItems(batch, (x, y) => Reference<T>.Conv2D(
        x, In.C, In.H, In.W, _weight.Value, _bias?.Value, Output.C, _kH, _kW, _strideH, _strideW, _padTop, _padLeft, _padBottom, _padRight, _dilationH, _dilationW, _groups, y));

    private static Shape OutputShape(Shape input, int filters, (int H, int W) k, (int H, int W) s, (int Top, int Left, int Bottom, int Right) p, (int H, int W) d)
    {
        (int h, int w) = Reference<T>.ConvOutputSize(input.H, input.W, k.H, k.W, s.H, s.W, p.Top, p.Left, p.Bottom, p.Right, d.H, d.W);
        return new Shape(filters, h, w);
    }
}

/// <summary>Fully connected layer on the flattened item; parameters <c>name.weight</c> <c>[units, inFeatures]</c> and <c>name.bias</c>.</summary>
public sealed class DenseLayer<T> : Layer<T>
    where T : IFloatingPointIeee754<T>
{
    private readonly Parameter<T> _weight;
    private readonly Parameter<T>? _bias;

    public DenseLayer(string name, Shape input, int units, bool bias)
        : base(name, new[] { input }, new Shape(units, 1, 1))
    {
        _weight = new Parameter<T>(name + ".weight", units, input.Size);
        _bias = bias ? new Parameter<T>(name + ".bias", units) : null;
    }

    public override IReadOnlyList<Parameter<T>> Parameters => _bias is null ? new[] { _weight } : new[] { _weight, _bias };

    public override T[][] Backward(T[] outputGrad, int batch) => new[]
    {
        MapItemsBack(batch, outputGrad, (x, dy, dx) => Reference<T>.DenseBackward(x, In.Size, _weight.Value, Output.C, dy, dx, _weight.Grad, _bias?.Grad)),
    };

    protected override T[] Run(int batch, bool training) =>
        MapItems(batch, (x, y) => Reference<T>.Dense(x, In.Size, _weight.Value, _bias?.Value, Output.C, y));
}

/// <summary>
/// Batch norm: batch statistics and running-statistics update in training mode, running statistics in inference mode.
/// Parameters <c>name.weight</c> (gamma), <c>name.bias</c> (beta); buffers <c>name.running_mean</c> (initially 0) and <c>name.running_var</c> (1).
/// </summary>
public sealed class BatchNorm2DLayer<T> : Layer<T>
    where T : IFloatingPointIeee754<T>
{
    private readonly Parameter<T> _gamma;
    private readonly Parameter<T> _beta;
    private readonly T[] _runningMean;
    private readonly T[] _runningVariance;
    private readonly T _eps;
    private readonly T _momentum;
    private bool _trainedLast;

    public BatchNorm2DLayer(string name, Shape input, double eps, double momentum)
        : base(name, new[] { input }, input)
    {
        _gamma = new Parameter<T>(name + ".weight", input.C);
        _beta = new Parameter<T>(name + ".bias", input.C);
        Array.Fill(_gamma.Value, T.One);
        _runningMean = new T[input.C];
        _runningVariance = Enumerable.Repeat(T.One, input.C).ToArray();
        _eps = T.CreateChecked(eps);
        _momentum = T.CreateChecked(momentum);
    }

    public override IReadOnlyList<Parameter<T>> Parameters => new[] { _gamma, _beta };

    public override IReadOnlyList<(string Name, T[] Value)> Buffers => new[] { (Name + ".running_mean", _runningMean), (Name + ".running_var", _runningVariance) };

    public override T[][] Backward(T[] outputGrad, int batch)
    {
        if (_trainedLast)
        {
            var inputGrad = new T[outputGrad.Length];
            Reference<T>.BatchNorm2DTrainingBackward(Inputs[0], batch, In.C, In.H, In.W, _gamma.Value, _eps, outputGrad, inputGrad, _gamma.Grad, _beta.Grad);
            return new[] { inputGrad };
        }

        return new[]
        {
            MapItemsBack(batch, outputGrad, (x, dy, dx) => Reference<T>.BatchNorm2DBackward(x, In.C, In.H, In.W, _gamma.Value, _runningMean, _runningVariance, _eps, dy, dx, _gamma.Grad, _beta.Grad)),
        };
    }

    protected override T[] Run(int batch, bool training)
    {
        _trainedLast = training;
        if (training)
        {
            var output = new T[Inputs[0].Length];
            Reference<T>.BatchNorm2DTraining(Inputs[0], batch, In.C, In.H, In.W, _gamma.Value, _beta.Value, _runningMean, _runningVariance, _eps, _momentum, output);
            return output;
        }

        return MapItems(batch, (x, y) => Reference<T>.BatchNorm2D(x, In.C, In.H, In.W, _gamma.Value, _beta.Value, _runningMean, _runningVariance, _eps, y));
    }
}

/// <summary>An element-wise activation.</summary>
public sealed class ActivationLayer<T>(string name, Shape input, Activation activation, double alpha) : Layer<T>(name, new[] { input }, input)
    where T : IFloatingPointIeee754<T>
{
    private readonly T _alpha = T.CreateChecked(alpha);

    public Activation Activation { get; } = activation;

    public override T[][] Backward(T[] outputGrad, int batch)
    {
        var inputGrad = new T[outputGrad.Length];
        Reference<T>.ActivateBackward(Inputs[0], outputGrad, inputGrad, Activation, _alpha);
        return new[] { inputGrad };
    }

    protected override T[] Run(int batch, bool training)
    {
        var output = new T[Inputs[0].Length];
        Reference<T>.Activate(Inputs[0], output, Activation, _alpha);
        return output;
    }
}

/// <summary>Softmax over the channel axis of each item.</summary>
public sealed class SoftmaxLayer<T>(string name, Shape input) : Layer<T>(name, new[] { input }, input)
    where T : IFloatingPointIeee754<T>
{
    public override T[][] Backward(T[] outputGrad, int batch) => new[]
    {
        MapItemsBack(batch, outputGrad, (x, dy, dx) => Reference<T>.SoftmaxBackward(x, In.C, In.H * In.W, dy, dx)),
    };

    protected override T[] Run(int batch, bool training) => MapItems(batch, (x, y) => Reference<T>.Softmax(x, In.C, In.H * In.W, y));
}

/// <summary>Log-softmax over the channel axis of each item.</summary>
public sealed class LogSoftmaxLayer<T>(string name, Shape input) : Layer<T>(name, new[] { input }, input)
    where T : IFloatingPointIeee754<T>
{
    public override T[][] Backward(T[] outputGrad, int batch) => new[]
    {
        MapItemsBack(batch, outputGrad, (x, dy, dx) => Reference<T>.LogSoftmaxBackward(x, In.C, In.H * In.W, dy, dx)),
    };

    protected override T[] Run(int batch, bool training) => MapItems(batch, (x, y) => Reference<T>.LogSoftmax(x, In.C, In.H * In.W, y));
}

/// <summary>Max pooling.</summary>
public sealed class MaxPool2DLayer<T> : Layer<T>
    where T : IFloatingPointIeee754<T>
{
    private readonly (int H, int W) _kernel, _stride, _padding, _dilation;
    private readonly bool _ceilMode;

    public MaxPool2DLayer(string name, Shape input, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, bool ceilMode)
        : base(name, new[] { input }, PoolShape(input, kernel, stride, padding, dilation, ceilMode))
    {
        (_kernel, _stride, _padding, _dilation, _ceilMode) = (kernel, stride, padding, dilation, ceilMode);
    }

    public override T[][] Backward(T[] outputGrad, int batch) => new[]
    {
        MapItemsBack(batch, outputGrad, (x, dy, dx) => Reference<T>.MaxPool2DBackward(
            x, In.C, In.H, In.W, _kernel.H, _kernel.W, _stride.H, _stride.W, _padding.H, _padding.W, _dilation.H, _dilation.W, _ceilMode, dy, dx)),
    };

    internal static Shape PoolShape(Shape input, (int H, int W) k, (int H, int W) s, (int H, int W) p, (int H, int W) d, bool ceilMode)
    {
        (int h, int w) = Reference<T>.PoolOutputSize(input.H, input.W, k.H, k.W, s.H, s.W, p.H, p.W, d.H, d.W, ceilMode);
        return new Shape(input.C, h, w);
    }

    protected override T[] Run(int batch, bool training) => MapItems(batch, (x, y) => Reference<T>.MaxPool2D(
        x, In.C, In.H, In.W, _kernel.H, _kernel.W, _stride.H, _stride.W, _padding.H, _padding.W, _dilation.H, _dilation.W, _ceilMode, y));
}

/// <summary>Average pooling.</summary>
public sealed class AvgPool2DLayer<T> : Layer<T>
    where T : IFloatingPointIeee754<T>
{
    private readonly (int H, int W) _kernel, _stride, _padding;
    private readonly bool _ceilMode, _countIncludePad;

    public AvgPool2DLayer(string name, Shape input, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, bool ceilMode, bool countIncludePad)
        : base(name, new[] { input }, MaxPool2DLayer<T>.PoolShape(input, kernel, stride, padding, (1, 1), ceilMode))
    {
        (_kernel, _stride, _padding, _ceilMode, _countIncludePad) = (kernel, stride, padding, ceilMode, countIncludePad);
    }

    public override T[][] Backward(T[] outputGrad, int batch) => new[]
    {
        MapItemsBack(batch, outputGrad, (_, dy, dx) => Reference<T>.AvgPool2DBackward(
            In.C, In.H, In.W, _kernel.H, _kernel.W, _stride.H, _stride.W, _padding.H, _padding.W, _ceilMode, _countIncludePad, dy, dx)),
    };

    protected override T[] Run(int batch, bool training) => MapItems(batch, (x, y) => Reference<T>.AvgPool2D(
        x, In.C, In.H, In.W, _kernel.H, _kernel.W, _stride.H, _stride.W, _padding.H, _padding.W, _ceilMode, _countIncludePad, y));
}

/// <summary>Global average or max pooling to <c>[C, 1, 1]</c>.</summary>
public sealed class GlobalPool2DLayer<T>(string name, Shape input, bool max) : Layer<T>(name, new[] { input }, new Shape(input.C, 1, 1))
    where T : IFloatingPointIeee754<T>
{
    public override T[][] Backward(T[] outputGrad, int batch) => new[]
    {
        max
            ? MapItemsBack(batch, outputGrad, (x, dy, dx) => Reference<T>.GlobalMaxPool2DBackward(x, In.C, In.H, In.W, dy, dx))
            : MapItemsBack(batch, outputGrad, (_, dy, dx) => Reference<T>.GlobalAvgPool2DBackward(In.C, In.H, In.W, dy, dx)),
    };

    protected override T[] Run(int batch, bool training) => max
        ? MapItems(batch, (x, y) => Reference<T>.GlobalMaxPool2D(x, In.C, In.H, In.W, y))
        : MapItems(batch, (x, y) => Reference<T>.GlobalAvgPool2D(x, In.C, In.H, In.W, y));
}

/// <summary>Adaptive average pooling to <c>[C, outH, outW]</c>.</summary>
public sealed class AdaptiveAvgPool2DLayer<T>(string name, Shape input, int outH, int outW) : Layer<T>(name, new[] { input }, new Shape(input.C, outH, outW))
    where T : IFloatingPointIeee754<T>
{
    public override T[][] Backward(T[] outputGrad, int batch) => new[]
    {
        MapItemsBack(batch, outputGrad, (_, dy, dx) => Reference<T>.AdaptiveAvgPool2DBackward(In.C, In.H, In.W, outH, outW, dy, dx)),
    };

    protected override T[] Run(int batch, bool training) => MapItems(batch, (x, y) => Reference<T>.AdaptiveAvgPool2D(x, In.C, In.H, In.W, outH, outW, y));
}

/// <summary>Flatten to <c>[C*H*W, 1, 1]</c>: a view in NCHW, so both directions copy the values unchanged.</summary>
public sealed class FlattenLayer<T>(string name, Shape input) : Layer<T>(name, new[] { input }, new Shape(input.Size, 1, 1))
    where T : IFloatingPointIeee754<T>
{
    public override T[][] Backward(T[] outputGrad, int batch) => new[] { outputGrad };

    protected override T[] Run(int batch, bool training) => Inputs[0];
}

/// <summary>Dropout: the seeded counter-based mask over the whole batch in training mode, the identity in inference mode.</summary>
public sealed class DropoutLayer<T>(string name, Shape input, double p, uint seed) : Layer<T>(name, new[] { input }, input)
    where T : IFloatingPointIeee754<T>
{
    private readonly T _p = T.CreateChecked(p);
    private bool _trainedLast;

    public override T[][] Backward(T[] outputGrad, int batch)
    {
        if (!_trainedLast)
        {
            return new[] { outputGrad };
        }

        var inputGrad = new T[outputGrad.Length];
        Reference<T>.DropoutBackward(_p, seed, 0, outputGrad, inputGrad);
        return new[] { inputGrad };
    }

    protected override T[] Run(int batch, bool training)
    {
        _trainedLast = training;
        if (!training)
        {
            return Inputs[0];
        }

        var output = new T[Inputs[0].Length];
        Reference<T>.Dropout(Inputs[0], _p, seed, 0, output);
        return output;
    }
}

/// <summary>Element-wise sum of two inputs (a residual join).</summary>
public sealed class AddLayer<T>(string name, Shape a, Shape b) : Layer<T>(name, new[] { a, b }, SameShape(a, b))
    where T : IFloatingPointIeee754<T>
{
    public override T[][] Backward(T[] outputGrad, int batch)
    {
        var aGrad = new T[outputGrad.Length];
        var bGrad = new T[outputGrad.Length];
        Reference<T>.AddBackward(outputGrad, aGrad, bGrad);
        return new[] { aGrad, bGrad };
    }

    protected override T[] Run(int batch, bool training)
    {
        var output = new T[Inputs[0].Length];
        Reference<T>.Add(Inputs[0], Inputs[1], output);
        return output;
    }

    private static Shape SameShape(Shape a, Shape b) =>
        a == b ? a : throw new ArgumentException($"Add needs equal shapes; got {a} and {b}.");
}

/// <summary>
/// Element-wise product of two inputs: equal shapes, or one a per-channel scale <c>[C, 1, 1]</c> broadcast over the other's
/// pixels (either order), as the <c>Multiply</c> attribute allows.
/// </summary>
public sealed class MultiplyLayer<T>(string name, Shape a, Shape b) : Layer<T>(name, new[] { a, b }, ProductShape(a, b))
    where T : IFloatingPointIeee754<T>
{
    /// <summary>Which input is the per-channel scale: -1 for equal shapes.</summary>
    private int Scale => InputShapes[0] == InputShapes[1] ? -1 : InputShapes[0].H * InputShapes[0].W == 1 ? 0 : 1;

    public override T[][] Backward(T[] outputGrad, int batch)
    {
        var grads = new[] { new T[batch * InputShapes[0].Size], new T[batch * InputShapes[1].Size] };
        if (Scale < 0)
        {
            Reference<T>.MultiplyBackward(Inputs[0], Inputs[1], outputGrad, grads[0], grads[1]);
            return grads;
        }

        int map = 1 - Scale;
        for (int n = 0; n < batch; n++)
        {
            Reference<T>.MultiplyPerChannelBackward(Item(map, n), Output.C, Output.H, Output.W, Item(Scale, n), outputGrad.AsSpan(n * Output.Size, Output.Size),
                grads[map].AsSpan(n * Output.Size, Output.Size), grads[Scale].AsSpan(n * Output.C, Output.C));
        }

        return grads;
    }

    protected override T[] Run(int batch, bool training)
    {
        var output = new T[batch * Output.Size];
        if (Scale < 0)
        {
            Reference<T>.Multiply(Inputs[0], Inputs[1], output);
            return output;
        }

        for (int n = 0; n < batch; n++)
        {
            Reference<T>.MultiplyPerChannel(Item(1 - Scale, n), Output.C, Output.H, Output.W, Item(Scale, n), output.AsSpan(n * Output.Size, Output.Size));
        }

        return output;
    }

    private ReadOnlySpan<T> Item(int input, int n) => Inputs[input].AsSpan(n * InputShapes[input].Size, InputShapes[input].Size);

    private static Shape ProductShape(Shape a, Shape b) =>
        a == b ? a
        : b.H * b.W == 1 && b.C == a.C ? a
        : a.H * a.W == 1 && a.C == b.C ? b
        : throw new ArgumentException($"Multiply needs equal shapes or a per-channel [C, 1, 1] scale; got {a} and {b}.");
}

/// <summary>Concatenation of two inputs along the channel axis.</summary>
public sealed class ConcatLayer<T>(string name, Shape a, Shape b) : Layer<T>(name, new[] { a, b }, new Shape(a.C + b.C, a.H, a.W))
    where T : IFloatingPointIeee754<T>
{
    public override T[][] Backward(T[] outputGrad, int batch)
    {
        Shape a = InputShapes[0], b = InputShapes[1];
        var aGrad = new T[batch * a.Size];
        var bGrad = new T[batch * b.Size];
        for (int n = 0; n < batch; n++)
        {
            Reference<T>.ConcatBackward(a.C, b.C, a.H, a.W, outputGrad.AsSpan(n * Output.Size, Output.Size), aGrad.AsSpan(n * a.Size, a.Size), bGrad.AsSpan(n * b.Size, b.Size));
        }

        return new[] { aGrad, bGrad };
    }

    protected override T[] Run(int batch, bool training)
    {
        Shape a = InputShapes[0], b = InputShapes[1];
        var output = new T[batch * Output.Size];
        for (int n = 0; n < batch; n++)
        {
            Reference<T>.Concat(Inputs[0].AsSpan(n * a.Size, a.Size), a.C, Inputs[1].AsSpan(n * b.Size, b.Size), b.C, a.H, a.W, output.AsSpan(n * Output.Size, Output.Size));
        }

        return output;
    }
}
