using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <content>
/// A convolution's weight gradient from the maxima of the max pool that reads it (<see cref="ConvWeightsFromMaximaKernel"/>):
/// the decision, the maxima's slots, and the pool's and the convolution's backward nodes under it.
/// </content>
internal sealed partial class BackwardBuilder
{
    /// <summary>The maxima record of each convolution output whose weight gradient reads its pool's maxima (forward tensor id).</summary>
    private readonly Dictionary<int, PoolMaxima> _maxima = new();

    /// <summary>
    /// Whether the weight gradient of the convolution writing <paramref name="tensor"/> is computed from the maxima of the
    /// max pool that reads it instead of from its dense dy. The pool's gradient is sparse: when its windows tile the
    /// convolution's output, dy is non-zero at one pixel per window and filter (the first maximum), so the weight
    /// gradient needs one multiply-add per window and filter and unit of the input (a tap's vector of channels, or a
    /// kernel row of one channel), not one per output pixel, tap and channel for every filter vector. Taken when:
    /// a max pool is the convolution's only reader and the convolution has ReLU (it folds into the pool: its mask is the
    /// window's maximum &gt; 0) or no activation (<see cref="MaxPoolOnlyReader"/>), the windows tile the map
    /// (<see cref="PoolTiles"/>), the gradient is always computed (so the bias gradient folds into the pool too and
    /// nothing else reads the dense dy but the convolution's input gradient), the convolution is not grouped, its input
    /// lives in the workspace (not the network input read in place), HWC, or CHW with the kernel's columns contiguous and
    /// within one vector (dilation 1 along the width, at most a vector wide: Vector128 keeps LeNet's 5-column kernels
    /// dense) and its row loads within the image's workspace (<see cref="RowLoadsStayInImage"/>), the dense kernel's
    /// multiply-adds are at least twice the sparse one's loads (LeNet-5 at Vector256: conv1 19,600 against 5,880, conv2
    /// 30,000 against 10,000 an image; conservative: conv2 at Vector512, 15,000 against 10,000, was ~2% faster a step
    /// forced onto the maxima on Zen 4), and the sums fit <see cref="MaximaSumFloats"/>.
    /// </summary>
    private bool WeightsFromPoolMaxima(int tensor)
    {
        var conv = _plan.Steps.FirstOrDefault(s => s.Output == tensor);
        if (conv is not { Kind: StepKind.Conv, Kernel: ConvKernel f } || !MaxPoolOnlyReader(tensor) || Guard(tensor) != When.Always
            || !PoolTiles(_plan.Steps.First(s => s.Inputs.Contains(tensor))) || LayerOf(conv.Layer).Groups != 1)
        {
            return false;
        }

        var x = T(conv.Inputs[0]);
        var win = f.Window;
        bool planar = x.Layout == Layout.Chw;
        if (x.External || !(planar || x.Layout == Layout.Hwc) || (planar && (win.DilationW != 1 || win.KernelW > V)) || (!planar && x.Cp % V != 0))
        {
            return false;
        }

        var pool = T(_plan.Steps.First(s => s.Inputs.Contains(tensor)).Output);
        long dense = (long)f.Y.H * f.Y.W * win.Taps * f.X.C * (f.Y.Cp / V);
        long sparse = (long)f.Y.C * pool.H * pool.W * Units(planar, x, win);
        long sums = (long)f.Y.C * Units(planar, x, win) * V;
        return dense >= 2 * sparse && sums <= MaximaSumFloats && (!planar || RowLoadsStayInImage(x, win, pool, f.Y.Cp));
    }

    /// <summary>
    /// Whether a CHW input's kernel-row loads stay in the image's workspace: each reads a full vector from the row's first
    /// column, <c>V - KernelW</c> floats past the last column the convolution reads (3 floats at Vector256 for LeNet's 5
    /// columns, 11 at Vector512), so the last window's last row may read past the end of the input's slot, into whatever
    /// follows it in the image's workspace (those lanes' sums are never added into the gradient). Safe when the input
    /// lives in the workspace and at least that many floats of the same image follow it: the rest of the forward tensors,
    /// then the gradients' slots, among them the maxima's own (two vectors a window at least, more than the overrun), so
    /// this holds for every input in the workspace; checked so that a change of the layout cannot break it unseen. Not for
    /// the network input read in place (<c>External</c>, refused before): the batch's last image ends its array.
    /// </summary>
    private bool RowLoadsStayInImage(TensorPlan x, Window win, TensorPlan pool, int cp) =>
        (long)x.Offset + x.Floats + (V - win.KernelW) <= (long)_plan.WorkspaceFloats + (pool.H * pool.W * 2L * cp);

    /// <summary>
    /// The most floats of the weight gradient's sums (a vector per filter and unit, on the stack while the kernel runs
    /// over a thread's images): 32 KiB, an L1 data cache.
    /// </summary>
    private const int MaximaSumFloats = 8192;

    /// <summary>The vector loads a window and filter take: a kernel row per channel (CHW), else a vector of channels per tap.</summary>
    private int Units(bool planar, TensorPlan x, Window win) => planar ? x.C * win.KernelH : win.Taps * (x.Cp / V);

    /// <summary>
    /// Records the maxima of every convolution whose weight gradient reads them. Their slots come with the gradients'
    /// (<see cref="AssignGradients"/>): live from the pool's backward, which writes them, to the convolution's weight
    /// gradient, which reads them last, so they reuse slots freed before and free theirs after.
    /// </summary>
    private void DecideMaxima()
    {
        foreach (var conv in _plan.Steps.Where(s => s.Kind == StepKind.Conv && WeightsFromPoolMaxima(s.Output)))
        {
            var f = (ConvKernel)conv.Kernel;
            var pool = T(_plan.Steps.First(s => s.Inputs.Contains(conv.Output)).Output);
            _maxima[conv.Output] = new PoolMaxima
            {
                ConvName = Name(conv.Layer),
                Offset = -1, // placed by AssignGradients
                Windows = pool.H * pool.W,
                Cp = f.Y.Cp,
                XOrigin = f.XOrigin,
                XRowStep = f.XRowStep,
                XPixelStep = f.XPixelStep,
            };
        }
    }

    /// <summary>The key of a convolution's maxima among the nodes' reads (below -1: never a forward tensor's id, nor "none").</summary>
    private static int MaximaKey(int convOutput) => -2 - convOutput;

    /// <summary>The convolution output whose maxima <paramref name="key"/> (<see cref="MaximaKey"/>) names.</summary>
    private static int MaximaTensor(int key) => -2 - key;

    /// <summary>
    /// A max pool whose input's convolution reads its maxima: the pool writes the maxima (and adds the bias gradient), and
    /// the dense dy where the convolution's input gradient reads it; when that gradient is computed only on request, a
    /// second kernel writes the dense dy then, so a training step writes none.
    /// </summary>
    private void PoolMaximaNodes(StepPlan step)
    {
        int x = step.Inputs[0], y = step.Output;
        var conv = _plan.Steps.First(s => s.Output == x);
        if (Guard(conv.Inputs[0]) == When.Always)
        {
            Add(When.Always, x, true, new[] { y, MaximaKey(x) }, node => new TrainingOp[] { PoolBackward(step, node.Accumulate, _maxima[x], dense: true) });
            return;
        }

        Add(When.Always, -1, false, new[] { y, MaximaKey(x) }, _ => new TrainingOp[] { PoolBackward(step, false, _maxima[x], dense: false) });
        Add(Guard(conv.Inputs[0]), x, true, new[] { y }, node => new TrainingOp[] { PoolBackward(step, node.Accumulate, null, dense: true) });
    }

    private CallOp ConvWeightsFromMaxima(StepPlan step, TrainableLayer l)
    {
        var f = (ConvKernel)step.Kernel;
        int x = step.Inputs[0];
        var maxima = _maxima[step.Output];
        bool planar = f.X.Layout == Layout.Chw;
        int units = Units(planar, f.X, f.Window);
        // each accumulator takes one multiply-add per window, its input a load folded into it: the registers bound the
        // tile (accumulators and each filter's broadcast of g), not the dense tiles' accumulator budget
        int unitBlock = Even(units, Math.Min(units, _m.VectorRegisters - 2));
        int filterBlock = Enumerable.Range(1, l.Units).Last(b => b == 1 || (l.Units % b == 0 && (b * unitBlock) + b + 1 <= _m.VectorRegisters));
        var k = new ConvWeightsFromMaximaKernel
        {
            Method = step.Method + "BackwardWeights",
            Title = $"{l.Name}: d weight += g x x at each pool window's maximum, over a thread's images",
            LayerName = l.Name,
            X = f.X,
            Maxima = maxima,
            Window = f.Window,
            Channels = f.X.C,
            Filters = l.Units,
            TileFloats = f.TileFloats,
            ImageStride = _imageFloats,
            Planar = planar,
            FilterBlock = filterBlock,
            UnitBlock = unitBlock,
        };
        Kernel(k);
        return Batched(k.Method, When.Always, Arg(x), new CallArg(ArgKind.Tensor, maxima.Offset, maxima.ConvName + " (pool maxima)"), new CallArg(ArgKind.Count), Param(l.WeightGradient));
    }
}
