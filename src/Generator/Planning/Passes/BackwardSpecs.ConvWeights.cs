using System;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <content>A convolution's weight gradient: its register tiles of taps x channels x filter vectors.</content>
internal sealed partial class BackwardBuilder
{
    private CallOp ConvWeights(StepPlan step, TrainableLayer l)
    {
        var f = (ConvKernel)step.Kernel;
        int x = step.Inputs[0];
        int block = Math.Max(1, Math.Min(f.X.C, _m.AccumulatorBudget / f.TileVectors));
        while ((block * f.TileVectors) + f.TileVectors + 1 > _m.VectorRegisters && block > 1)
        {
            block--;
        }

        var win = f.Window;
        var (tapRows, tapColumns) = TapBlock(win, block * f.TileVectors, f.TileVectors);
        var k = new ConvWeightsKernel
        {
            Method = step.Method + "BackwardWeights",
            Title = $"{l.Name}: d weight += x (x) dy over one image's pixels, per tap",
            LayerName = l.Name,
            X = f.X,
            OutputGradient = Grad(step.Output),
            Window = f.Window,
            Channels = f.X.C,
            TileGroups = f.TileGroups,
            TileVectors = f.TileVectors,
            TileFloats = f.TileFloats,
            ChannelBlock = block,
            FullBlocks = f.X.C / block,
            LastChannelBlock = f.X.C % block,
            TapRows = tapRows,
            TapColumns = tapColumns,
            LastTapRows = win.KernelH % tapRows,
            LastTapColumns = win.KernelW % tapColumns,
            PairSecondSetUpTo = PairSecondSetUpTo(),
            XOrigin = f.XOrigin,
            XRowStep = f.XRowStep,
            XPixelStep = f.XPixelStep,
        };
        Kernel(k);
        return Call(k.Method, When.Always, Arg(x), GradientArg(step.Output), Param(l.WeightGradient));
    }

    /// <summary>
    /// The block of taps a weight-gradient tile covers when a channel block holds only <paramref name="chains"/>
    /// accumulators: as many taps as the accumulator budget and the registers allow (each tap adds
    /// <paramref name="chains"/> accumulators and shares the tile's dy loads), whole kernel rows when a row fits, else
    /// part of a row; blocks of even size (5 rows in blocks of 3 and 2, not 4 and 1).
    /// </summary>
    private (int Rows, int Columns) TapBlock(Window win, int chains, int vectors)
    {
        int taps = Math.Max(1, Math.Min(_m.AccumulatorBudget / chains, (_m.VectorRegisters - vectors - 1) / chains));
        if (taps >= win.KernelW)
        {
            int rows = Math.Min(win.KernelH, taps / win.KernelW);
            return (Even(win.KernelH, rows), win.KernelW);
        }

        return (1, Even(win.KernelW, taps));
    }

    /// <summary>The block size covering <paramref name="length"/> in as few blocks of at most <paramref name="most"/> as possible, as even as possible.</summary>
    private static int Even(int length, int most)
    {
        int blocks = (length + most - 1) / most;
        return (length + blocks - 1) / blocks;
    }

    /// <summary>
    /// The most accumulators a pixel-pair tile may have and still take a second set for the pair's second pixel: fewer
    /// than the FMA latency hides (latency x multiply-adds per cycle chains), with both sets within the budget.
    /// </summary>
    private int PairSecondSetUpTo() => Math.Min(_m.AccumulatorBudget / 2, (int)Math.Ceiling(_m.FmaLatencyCycles * _m.FmaPerCycle) - 1);
}
