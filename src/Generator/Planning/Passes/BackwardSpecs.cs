using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <content>
/// Every training and backward kernel's spec, with its register tiles from the machine model, and its call: the tile
/// choice, the dense, element-wise, pooling and routing specs (the convolutions' are in BackwardSpecs.Convolution.cs and BackwardSpecs.ConvWeights.cs).
/// </content>
internal sealed partial class BackwardBuilder
{
    /// <summary>
    /// A register tile of rows (images, features, channels, pixels) x vectors: the most accumulators within the budget,
    /// with the tile's vectors and one broadcast also in registers; on a tie, more vectors.
    /// </summary>
    private (int Rows, int Vectors) Tile(int maxRows, int maxVectors)
    {
        (int, int) best = (1, 1);
        for (int v = 1; v <= Math.Min(maxVectors, _m.ConvMaxTileVectors); v++)
        {
            for (int r = 1; r <= maxRows; r++)
            {
                if (r * v > _m.AccumulatorBudget || (r * v) + v + 1 > _m.VectorRegisters)
                {
                    break;
                }

                if ((r * v) > best.Item1 * best.Item2 || ((r * v) == best.Item1 * best.Item2 && v > best.Item2))
                {
                    best = (r, v);
                }
            }
        }

        return best;
    }

    /// <summary>
    /// A register tile of images x vectors for the dense kernels that run over a thread's images (the images past the
    /// last full group go one at a time, at a fraction of the tile's speed): as many accumulators as <see cref="Tile"/>
    /// allows, among those the most images that divide 8, so batches of a multiple of 8 per thread have no leftover
    /// images (8 x 3 instead of 6 x 4 at 24 accumulators: a batch of 64 ran 4 images alone).
    /// </summary>
    private (int Rows, int Vectors) ImageTile(int maxVectors)
    {
        var (rows, vectors) = Tile(8, maxVectors);
        for (int r = 8; r > rows; r /= 2)
        {
            int v = (rows * vectors) / r;
            if (v >= 1 && r * v == rows * vectors && v <= maxVectors && (r * v) + v + 1 <= _m.VectorRegisters)
            {
                return (r, v);
            }
        }

        return (rows, vectors);
    }

    private CallArg Param(string local) => new(ArgKind.ParameterGradient, 0, local);

    private DenseTrainingKernel DenseForward(StepPlan step)
    {
        var x = T(step.Inputs[0]);
        var y = T(step.Output);
        var l = _plan.Net.Layers[step.Layer];
        int nb = y.Cp / V;
        var (images, vectors) = ImageTile(nb);
        return new DenseTrainingKernel
        {
            Method = step.Method,
            Title = step.Title + (LayerOf(step.Layer).SplitColumns ? ", over every image of the batch, a thread's output vectors" : ", over a thread's images"),
            LayerName = l.Spec.Name,
            X = x,
            Y = y,
            Features = l.In.Size,
            Hwc = x.Layout == Layout.Hwc,
            XImageStride = x.External ? _plan.Net.Input.Size : _imageFloats,
            YImageStride = _imageFloats,
            Images = images,
            Vectors = vectors,
            FullTiles = nb / vectors,
            LastVectors = nb % vectors,
            Activation = step.Activation,
            Columns = LayerOf(step.Layer).SplitColumns,
            BlockFloats = LayerOf(step.Layer).SplitColumns ? l.In.Size * V : 0,
        };
    }

    private DropoutKernel Dropout(int s, StepPlan step) => ((DropoutKernel)step.Kernel) with { Mask = _masks[s] };

    private CallOp InPlaceActivation(StepPlan step)
    {
        int y = step.Output;
        var k = new ActivationBackwardKernel
        {
            Method = step.Method + "ActivationBackward",
            Title = $"{Name(step.Layer)}: dy *= {step.Activation.Kind}'(y), the fused activation's derivative from the stored output",
            Source = T(y),
            FromInput = false,
            OutputGradient = Grad(y),
            InputGradient = null,
            Accumulate = false,
            Activation = step.Activation,
        };
        Kernel(k);
        return Call(k.Method, Guard(y), Arg(y), GradientArg(y));
    }

    private CallOp ActivationBackward(StepPlan step, bool accumulate)
    {
        int x = step.Inputs[0], y = step.Output;
        bool fromInput = Lowering.NeedsInput(step.Activation.Kind, step.Activation.Alpha);
        var k = new ActivationBackwardKernel
        {
            Method = step.Method + "Backward",
            Title = $"{Name(step.Layer)}: dx = dy * {step.Activation.Kind}'({(fromInput ? "x" : "y")})",
            Source = T(fromInput ? x : y),
            FromInput = fromInput,
            OutputGradient = Grad(y),
            InputGradient = Grad(x),
            Accumulate = accumulate,
            Activation = step.Activation,
        };
        Kernel(k);
        return Call(k.Method, Guard(x), Arg(fromInput ? x : y), GradientArg(y), GradientArg(x));
    }

    private CallOp SoftmaxBackward(StepPlan step, bool accumulate, When when)
    {
        int x = step.Inputs[0], y = step.Output;
        var k = new SoftmaxBackwardKernel
        {
            Method = step.Method + "Backward",
            Title = $"{Name(step.Layer)}: dx = y * (dy - sum(dy * y)) over the channels",
            Y = T(y),
            OutputGradient = Grad(y),
            InputGradient = Grad(x),
            Accumulate = accumulate,
        };
        Kernel(k);
        return Call(k.Method, when, Arg(y), GradientArg(y), GradientArg(x));
    }

    private CallOp DropoutBackward(int s, StepPlan step, bool accumulate)
    {
        int x = step.Inputs[0], y = step.Output;
        var k = new DropoutBackwardKernel
        {
            Method = step.Method + "Backward",
            Title = $"{Name(step.Layer)}: dx = dy * mask",
            OutputGradient = Grad(y),
            Mask = _masks[s],
            InputGradient = Grad(x),
            Accumulate = accumulate,
        };
        Kernel(k);
        return Call(k.Method, Guard(x), GradientArg(y), new CallArg(ArgKind.Tensor, _masks[s].Offset, _masks[s].Name), GradientArg(x));
    }

    private CallOp Route(string method, int from, int to, int channelOffset, bool accumulate)
    {
        var g = Grad(to);
        var k = new GradientCopyKernel
        {
            Method = method,
            Title = channelOffset == 0 && T(from).C == T(to).C
                ? $"d({T(to).Name}) {(accumulate ? "+=" : "=")} d({T(from).Name})"
                : $"d({T(to).Name}) {(accumulate ? "+=" : "=")} channels {I(channelOffset)}-{I(channelOffset + g.C - 1)} of d({T(from).Name})",
            From = Grad(from),
            To = g,
            ChannelOffset = channelOffset,
            Vectorized = channelOffset % V == 0 && (g.C % V == 0 || (channelOffset == 0 && Grad(from).Cp == g.Cp)),
            Accumulate = accumulate,
        };
        Kernel(k);
        return Call(method, Guard(to), GradientArg(from), GradientArg(to));
    }

    /// <summary>
    /// The pool's windows tile its input exactly (stride = kernel, no padding or dilation, the sizes divide, no border
    /// on the gradient): every dx pixel is written by exactly one window, so its backward can overwrite dx.
    /// </summary>
    private bool PoolTiles(StepPlan step)
    {
        var win = ((PoolKernel)step.Kernel).Window;
        var x = T(step.Inputs[0]);
        var y = T(step.Output);
        return !x.HasBorder && win.PadTop == 0 && win.PadLeft == 0 && win.PadBottom == 0 && win.PadRight == 0
            && win.DilationH == 1 && win.DilationW == 1 && win.StrideH == win.KernelH && win.StrideW == win.KernelW
            && x.H == y.H * win.StrideH && x.W == y.W * win.StrideW;
    }

    /// <summary>
    /// Whether the convolution writing <paramref name="tensor"/> (no fused add, pool or depthwise step; ReLU or no
    /// activation) has a max pool as its output's only reader: dy is then non-zero only at each window's maximum.
    /// </summary>
    private bool MaxPoolOnlyReader(int tensor)
    {
        var producer = _plan.Steps.FirstOrDefault(s => s.Output == tensor);
        var readers = _plan.Steps.Where(s => s.Inputs.Contains(tensor)).ToList();
        return producer is { Kind: StepKind.Conv, FusedAdd: < 0, FusedPool: < 0, FusedDepthwise: < 0 } && producer.Activation.Kind is Activation.Relu or Activation.None
            && readers.Count == 1 && readers[0].Kind == StepKind.Pool && readers[0].Inputs[0] == tensor && ((PoolKernel)readers[0].Kernel).Max;
    }

    /// <summary>
    /// Whether the ReLU fused into the convolution that writes <paramref name="tensor"/> is folded into the backward of a
    /// max pool, the tensor's only reader: dx is non-zero only at a window's maximum, where the ReLU's input is positive
    /// exactly when the window's maximum (the pool's output) is, so the pool passes dy where that maximum is &gt; 0 and
    /// the convolution's own in-place activation pass (a read and a write of its whole output gradient) is not emitted.
    /// </summary>
    private bool ReluFoldsIntoPool(int tensor) => MaxPoolOnlyReader(tensor) && _plan.Steps.First(s => s.Output == tensor).Activation.Kind == Activation.Relu;

    /// <summary>
    /// Whether the bias gradient of the convolution writing <paramref name="tensor"/> is added by the backward of the max
    /// pool reading it (<see cref="PoolBackwardKernel.BiasOf"/>): the pool is its only reader (its ReLU, if any, folds
    /// into the pool), the pool's windows tile the tensor, and the gradient is always computed.
    /// </summary>
    private bool BiasFoldsIntoPool(int tensor) =>
        MaxPoolOnlyReader(tensor) && Guard(tensor) == When.Always && PoolTiles(_plan.Steps.First(s => s.Inputs.Contains(tensor)))
        && LayerOf(_plan.Steps.First(s => s.Output == tensor).Layer).HasBias;

    /// <summary>
    /// A pool's backward; with <paramref name="maxima"/> it also writes each window's gradient and maximum for the
    /// convolution it reads, and without <paramref name="dense"/> only those (a bias gradient is folded into the kernel that
    /// writes the maxima, or into the only one).
    /// </summary>
    private CallOp PoolBackward(StepPlan step, bool accumulate, PoolMaxima? maxima = null, bool dense = true)
    {
        int x = step.Inputs[0], y = step.Output;
        var f = (PoolKernel)step.Kernel;
        bool onRequest = maxima is null && _maxima.ContainsKey(x); // the dense dy of a convolution whose weights read the maxima
        var bias = BiasFoldsIntoPool(x) && !onRequest ? LayerOf(_plan.Steps.First(s => s.Output == x).Layer) : null;
        if (bias is not null && accumulate)
        {
            throw new InvalidOperationException($"{bias.Name}'s bias gradient folded into a pool backward that adds into dx");
        }

        var k = new PoolBackwardKernel
        {
            Accumulate = accumulate,
            Method = step.Method + (onRequest ? "BackwardDense" : "Backward"),
            Title = $"{Name(step.Layer)}: " + (f.Max ? "each window's gradient to its first maximum (row-major)" : "each window's gradient spread by its divisor"),
            X = T(x),
            Y = T(y),
            OutputGradient = Grad(y),
            InputGradient = Grad(x),
            Window = f.Window,
            Max = f.Max,
            CountIncludePad = f.CountIncludePad,
            PaddedHeight = f.PaddedHeight,
            PaddedWidth = f.PaddedWidth,
            Relu = f.Max && ReluFoldsIntoPool(x) ? Name(_plan.Steps.First(s => s.Output == x).Layer) : null,
            BiasOf = bias?.Name,
            Maxima = maxima,
            Dense = dense,
        };
        Kernel(k);
        var args = new List<CallArg> { Arg(x), Arg(y), GradientArg(y) };
        if (dense)
        {
            args.Add(GradientArg(x));
        }

        if (maxima is not null)
        {
            args.Add(new CallArg(ArgKind.Tensor, maxima.Offset, maxima.ConvName + " (pool maxima)"));
        }

        if (bias is not null)
        {
            args.Add(Param(bias.BiasGradient));
        }

        return Call(k.Method, onRequest ? Guard(_plan.Steps.First(s => s.Output == x).Inputs[0]) : Guard(x), args.ToArray());
    }

    private CallOp GlobalPoolBackward(StepPlan step, bool accumulate)
    {
        int x = step.Inputs[0], y = step.Output;
        var f = (GlobalPoolKernel)step.Kernel;
        var k = new GlobalPoolBackwardKernel
        {
            Method = step.Method + "Backward",
            Title = $"{Name(step.Layer)}: " + (f.Max ? "each channel's gradient to its first maximum (row-major)" : "each channel's gradient spread over the pixels"),
            X = T(x),
            Y = T(y),
            OutputGradient = Grad(y),
            InputGradient = Grad(x),
            Max = f.Max,
            Scale = f.Scale,
            Accumulate = accumulate,
        };
        Kernel(k);
        return Call(k.Method, Guard(x), Arg(x), Arg(y), GradientArg(y), GradientArg(x));
    }

    private CallOp AdaptivePoolBackward(StepPlan step)
    {
        int x = step.Inputs[0], y = step.Output;
        var k = new AdaptivePoolBackwardKernel
        {
            Method = step.Method + "Backward",
            Title = $"{Name(step.Layer)}: each output cell's gradient spread over its adaptive window (windows may overlap)",
            OutputGradient = Grad(y),
            InputGradient = Grad(x),
        };
        Kernel(k);
        return Call(k.Method, Guard(x), GradientArg(y), GradientArg(x));
    }

    /// <summary>One operand's gradient of a Multiply: dy times <paramref name="factor"/> (a forward tensor), into <paramref name="to"/>'s gradient.</summary>
    private CallOp MultiplyBackward(StepPlan step, MultiplyGradient gradient, string method, int to, int factor, bool accumulate)
    {
        string op = accumulate ? "+=" : "=";
        string dx = $"d({T(to).Name})", other = T(factor).Name;
        var k = new MultiplyBackwardKernel
        {
            Method = method,
            Title = Name(step.Layer) + ": " + gradient switch
            {
                MultiplyGradient.Operand => $"{dx} {op} dy * '{other}'",
                MultiplyGradient.Map => $"{dx} {op} dy * '{other}' (one scale per channel, broadcast over the pixels)",
                _ => $"{dx} {op} the sum over pixels of dy * '{other}', per channel",
            },
            Gradient = gradient,
            OutputGradient = Grad(step.Output),
            Factor = T(factor),
            InputGradient = Grad(to),
            Accumulate = accumulate,
        };
        Kernel(k);
        return Call(method, Guard(to), GradientArg(step.Output), Arg(factor), GradientArg(to));
    }

    private CallOp DenseWeights(StepPlan step, TrainableLayer l)
    {
        var x = T(step.Inputs[0]);
        var y = T(step.Output);
        int nb = y.Cp / V;
        int channels = x.Layout == Layout.Hwc ? x.C : (int)_plan.Net.Layers[step.Layer].In.Size;
        var (block, vectors) = Tile(channels, nb);
        var k = new DenseWeightsKernel
        {
            Method = step.Method + "BackwardWeights",
            Title = l.SplitColumns ? $"{l.Name}: d weight = x (x) dy and d bias = dy summed over every image of the batch, for a thread's output vectors"
                : l.OverwritesGradients ? $"{l.Name}: d weight = x (x) dy and d bias = dy summed over a thread's images" : $"{l.Name}: d weight += x (x) dy and d bias += dy over a thread's images",
            LayerName = l.Name,
            Overwrite = l.OverwritesGradients,
            X = x,
            OutputGradient = Grad(step.Output),
            Hwc = x.Layout == Layout.Hwc,
            XImageStride = x.External ? _plan.Net.Input.Size : _imageFloats,
            YImageStride = _imageFloats,
            Bias = l.HasBias,
            FeatureBlock = block,
            Vectors = vectors,
            FullTiles = nb / vectors,
            LastVectors = nb % vectors,
            Columns = l.SplitColumns,
            BlockFloats = l.SplitColumns ? _plan.Net.Layers[step.Layer].In.Size * V : 0,
        };
        Kernel(k);
        var args = new[] { Arg(step.Inputs[0]), GradientArg(step.Output), new CallArg(ArgKind.Count), Param(l.WeightGradient) };
        args = l.HasBias ? args.Append(Param(l.BiasGradient)).ToArray() : args;
        return l.SplitColumns ? Columns(k.Method, When.Always, nb, args) : Batched(k.Method, When.Always, args);
    }

    private CallOp DenseData(StepPlan step, TrainableLayer l, bool accumulate)
    {
        int x = step.Inputs[0];
        var dx = Grad(x);
        int floats = dx.Layout == Layout.Flat ? dx.Cp : dx.W * dx.Cp;
        var (images, vectors) = ImageTile(floats / V);
        var k = new DenseDataKernel
        {
            Method = step.Method + "BackwardData",
            Title = $"{l.Name}: dx = W^T dy over a thread's images",
            LayerName = l.Name,
            OutputGradient = Grad(step.Output),
            InputGradient = dx,
            Units = l.Units,
            GradientFloats = dx.Layout == Layout.Flat ? dx.Cp : dx.H * dx.W * dx.Cp,
            XImageStride = _imageFloats,
            YImageStride = _imageFloats,
            Images = images,
            Vectors = vectors,
            Accumulate = accumulate,
        };
        Kernel(k);
        return Batched(k.Method, Guard(x), GradientArg(step.Output), GradientArg(x), new CallArg(ArgKind.Count), Field(l.TransposedField!));
    }
}
