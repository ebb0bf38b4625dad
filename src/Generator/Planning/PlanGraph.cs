using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning;

/// <summary>
/// The planner's working state: the forward pass's steps and tensors as the passes rewrite them. Mutable and private
/// to the planner; <see cref="Planner"/> turns it into the immutable <see cref="NetworkPlan"/> at the end.
/// </summary>
internal sealed class PlanGraph
{
    public PlanGraph(ShapedNetwork net, PlanOptions options)
    {
        Net = net;
        Options = options;
    }

    public ShapedNetwork Net { get; }

    public PlanOptions Options { get; }

    public EquatableArray<ShapedLayer> Layers => Net.Layers;

    public List<PlanStep> Steps { get; private set; } = new();

    /// <summary>Tensor 0 is the network input.</summary>
    public List<PlanTensor> Tensors { get; private set; } = new();

    /// <summary>The tensor holding the network output layer's result (set by <see cref="Passes.Lowering"/>).</summary>
    public int OutputTensor { get; set; }

    /// <summary>A deep copy, so each vector width's passes start from the same width-independent graph.</summary>
    public PlanGraph Clone() => new(Net, Options)
    {
        Steps = Steps.Select(s => s.Clone()).ToList(),
        Tensors = Tensors.Select(t => t.Clone()).ToList(),
        OutputTensor = OutputTensor,
    };

    /// <summary>Steps reading a tensor.</summary>
    public int Readers(int tensor) => Steps.Count(s => s.Inputs.Contains(tensor));

    /// <summary>The step writing a tensor, or null.</summary>
    public PlanStep? Producer(int tensor) => Steps.FirstOrDefault(s => s.Output == tensor);

    /// <summary>The immutable plan of a tensor at a vector width (its size comes from <see cref="TensorPlan.Floats"/>).</summary>
    public TensorPlan ToPlan(int id, int width)
    {
        var t = Tensors[id];
        return new TensorPlan
        {
            Id = id,
            Name = t.Name,
            Variable = id == 0 ? "input" : "t" + id.ToString(CultureInfo.InvariantCulture),
            Layout = t.Layout,
            C = t.C,
            H = t.H,
            W = t.W,
            Cp = t.Layout == Layout.Chw ? t.C : Planner.RoundUp(t.C, width),
            BorderTop = t.BT,
            BorderLeft = t.BL,
            BorderBottom = t.BB,
            BorderRight = t.BR,
            Offset = t.Offset,
            External = t.External,
        };
    }
}

/// <summary>A step while the passes work on it.</summary>
internal sealed class PlanStep
{
    public StepKind Kind;
    public int Layer;
    public List<int> Inputs = new();
    public int Output;
    public Activation Act;
    public float Alpha;
    public int FoldedBn = -1;
    public int FusedAdd = -1;
    public int FusedDepthwise = -1;
    public bool RowFused;
    public bool DirectOutput;

    /// <summary>A row-fused depthwise + pointwise pair over planar rows (<see cref="Passes.PlanarPairs"/>): set on both steps.</summary>
    public bool Planar;

    /// <summary>Output rows a planar pair computes per step (its row buffer's height).</summary>
    public int PlanarRows = 1;
    public int FusedPool = -1;
    public int TileP;
    public int TileB;
    public int LastTileB;
    public int GroupTileB;

    /// <summary>
    /// A 3x3 convolution computed with Winograd F(2x2, 3x3): the cost model's choice (GEMM tile, cache block, cycles), or
    /// null for the direct kernel (<see cref="Passes.Winograd"/>). TileP x TileB is then its GEMM tile.
    /// </summary>
    public Passes.WinogradEstimate? Winograd;

    /// <summary>Output rows (dense: output tiles) split between the threads sharing an image; 0: one thread runs the step.</summary>
    public int SplitUnits;

    public PlanStep Clone()
    {
        var copy = (PlanStep)MemberwiseClone();
        copy.Inputs = new List<int>(Inputs);
        return copy;
    }

    /// <summary>Steps whose layer's weights are loaded.</summary>
    public bool HasWeights => Kind is StepKind.Conv or StepKind.ConvPixels or StepKind.DepthwiseConv or StepKind.Dense or StepKind.BatchNorm;
}

/// <summary>A tensor while the passes work on it.</summary>
internal sealed class PlanTensor
{
    public string Name = string.Empty;
    public Layout Layout;
    public int C, H, W;
    public int BT, BL, BB, BR;
    public bool External;
    public int Offset;

    public PlanTensor Clone() => (PlanTensor)MemberwiseClone();
}
