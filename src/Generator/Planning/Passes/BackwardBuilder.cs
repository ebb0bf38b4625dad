using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// Plans one width's trainer: the training forward driver (the forward plan's kernels, with batch norm's statistics,
/// dropout masks and dense layers over a thread's images), then the backward driver in three passes: the backward
/// operations of every active step in reverse order (<c>BackwardSteps.cs</c>), which gradient each overwrites or
/// accumulates into and where gradients are cleared first, and the gradient slots by lifetime in backward order
/// (<see cref="AssignGradients"/>); finally every kernel's spec (<c>BackwardSpecs.cs</c>, <c>BackwardSpecs.Convolution.cs</c>, <c>BackwardSpecs.ConvWeights.cs</c>,
/// <c>BackwardSpecs.PoolMaxima.cs</c>).
/// </summary>
internal sealed partial class BackwardBuilder
{
    private readonly NetworkPlan _plan;
    private readonly BackwardGraph _graph;
    private readonly EquatableArray<TrainableLayer> _layers;
    private readonly MachineModel _m;
    private readonly List<Node> _nodes = new();
    private readonly Dictionary<int, TensorPlan> _gradients = new();
    private readonly Dictionary<int, TensorPlan> _masks = new();
    private readonly Dictionary<int, long> _statistics = new();
    private readonly List<KernelSpec> _kernels = new();
    private readonly HashSet<string> _emitted = new(StringComparer.Ordinal);

    /// <summary>
    /// Gradients a thread may still read for every image after the others went on: a dense layer split by columns
    /// reads every image's dy in its weight gradient, with a barrier before it and none after, so its dy keeps its slot
    /// to the end of the pass (a later gradient in that slot would be written by a thread done with its columns).
    /// </summary>
    private readonly HashSet<int> _readByEveryThread = new();
    private int _statisticsDoubles;
    private int _gradientBase;
    private int _imageFloats;

    public BackwardBuilder(NetworkPlan plan, BackwardGraph graph, EquatableArray<TrainableLayer> layers)
    {
        _plan = plan;
        _graph = graph;
        _layers = layers;
        _m = plan.Machine;
    }

    private int V => _m.Width;

    public TrainingPlan Build()
    {
        int floats = _plan.WorkspaceFloats;
        for (int s = 0; s < _plan.Steps.Count; s++)
        {
            var step = _plan.Steps[s];
            if (step.Kind == StepKind.Dropout)
            {
                _masks[s] = Slot(T(step.Output) with { Name = T(step.Output).Name + " (mask)", Variable = "mask" + I(s) }, ref floats);
            }

            if (step.Kind == StepKind.BatchNorm)
            {
                _statistics[s] = _statisticsDoubles;
                _statisticsDoubles += 2 * T(step.Output).Cp;
            }
        }

        DecideMaxima();
        _gradientBase = floats;
        BackwardNodes();
        _imageFloats = _gradientBase + AssignGradients();
        var forward = ForwardOps();
        var backward = _nodes.SelectMany(n => n.Emit()).ToList();
        backward.AddRange(MaskGroups());
        return new TrainingPlan
        {
            Forward = _plan,
            KernelClass = _plan.KernelClass,
            ImageFloats = _imageFloats,
            StatisticsDoubles = Math.Max(_statisticsDoubles, 0),
            Gradients = _gradients.OrderBy(g => g.Key).Select(g => g.Value).ToEquatableArray(),
            Packs = _layers.Select(Pack).ToEquatableArray(),
            ForwardOps = forward.ToEquatableArray(),
            BackwardOps = backward.ToEquatableArray(),
            Kernels = _kernels.ToEquatableArray(),
            Outputs = _plan.Steps.Where(s => s.Output > 0 && s.Kind != StepKind.CopyOutput)
                .Select(s => new LayerOutput(s.Layer >= 0 ? _plan.Net.Layers[s.Layer].Spec.Name : "input", T(s.Output).Offset, T(s.Output).Floats)).ToEquatableArray(),
        };
    }

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    private TensorPlan T(int id) => _plan.Tensors[id];

    private TrainableLayer LayerOf(int layer) => _layers.First(l => l.Layer == layer);

    private string Name(int layer) => _plan.Net.Layers[layer].Spec.Name;

    /// <summary>Places a tensor at <paramref name="floats"/> (cache-line aligned) and moves past it.</summary>
    private TensorPlan Slot(TensorPlan t, ref int floats)
    {
        var placed = t with { Offset = floats, External = false };
        floats += Planner.RoundUp(Math.Max(t.Floats, _m.CacheLineFloats), _m.CacheLineFloats);
        return placed;
    }

    /// <summary>Adds a kernel to emit (once per method).</summary>
    private void Kernel(KernelSpec k)
    {
        switch (k)
        {
            case DenseTrainingKernel d:
                CheckUnitBlocks(d.Method, d.Columns, d.BlockFloats);
                break;
            case DenseWeightsKernel d:
                CheckUnitBlocks(d.Method, d.Columns, d.BlockFloats);
                break;
        }

        if (_emitted.Add(k.Method))
        {
            _kernels.Add(k);
        }
    }

    /// <summary>
    /// Unit blocks only with the column split: a dense kernel's block offsets (<c>vector * blockFloats</c>) use the
    /// output-vector loop variable only a kernel split by columns has, so blocks without the split are a planner bug,
    /// refused here with its name rather than emitted as code that does not compile.
    /// </summary>
    internal static void CheckUnitBlocks(string method, bool columns, long blockFloats)
    {
        if (blockFloats > 0 && !columns)
        {
            throw new InvalidOperationException($"CnnGen internal error: {method} packs its weights in unit blocks of {blockFloats} floats but is not split by columns (unit blocks require the column split).");
        }
    }

    /// <summary>A tensor argument: the network input (the trainer's copy of the batch) or a workspace tensor.</summary>
    private CallArg Arg(int tensor) => tensor == 0 ? new CallArg(ArgKind.Input) : new CallArg(ArgKind.Tensor, T(tensor).Offset, T(tensor).Name);

    private static CallArg Field(string name) => new(ArgKind.Field, 0, name);

    private CallArg GradientArg(int tensor) => new(ArgKind.Gradient, Grad(tensor).Offset, Grad(tensor).Name);

    private static CallOp Call(string method, When when, params CallArg[] args) => new() { Method = method, Args = args.ToEquatableArray(), When = when };

    private static CallOp Batched(string method, When when, params CallArg[] args) => new() { Method = method, Args = args.ToEquatableArray(), When = when, Batched = true };

    /// <summary>A call of a layer split by columns: every image of the batch, the thread's range of <paramref name="vectors"/> output vectors.</summary>
    private static CallOp Columns(string method, When when, int vectors, params CallArg[] args) =>
        new() { Method = method, Args = args.Append(new CallArg(ArgKind.Vectors, vectors)).ToEquatableArray(), When = when, Batched = true, AllImages = true };

    /// <summary>The gradient tensor of forward tensor <paramref name="id"/> (placed by <see cref="AssignGradients"/>).</summary>
    private TensorPlan Grad(int id) => _gradients[id];

    /// <summary>
    /// The gradient's geometry: a vector stays a vector; a map is HWC with channels padded to the vector width and the
    /// tensor's zero border (a convolution's input gradient scatters its padding taps there); a planar input read only as
    /// a vector keeps PyTorch's C, H, W order.
    /// </summary>
    private TensorPlan GradientShape(int id)
    {
        var t = T(id);
        string name = "d(" + t.Name + ")";
        if (t.Layout == Layout.Flat)
        {
            return t with { Name = name, Variable = "d" + t.Variable, External = false };
        }

        if (t.Layout == Layout.Chw && _graph.ReadAsVector(id))
        {
            int features = t.C * t.H * t.W;
            return t with { Name = name, Variable = "d" + t.Variable, Layout = Layout.Flat, C = features, H = 1, W = 1, Cp = Planner.RoundUp(features, V), BorderTop = 0, BorderLeft = 0, BorderBottom = 0, BorderRight = 0, External = false };
        }

        return t with { Name = name, Variable = "d" + t.Variable, Layout = Layout.Hwc, Cp = Planner.RoundUp(t.C, V), External = false };
    }

    /// <summary>One backward operation before its slots are known: what it reads and writes, and how it emits.</summary>
    private sealed class Node
    {
        public When When;

        /// <summary>The gradient tensor (forward tensor id) it writes, or -1.</summary>
        public int Writes = -1;

        /// <summary>It can overwrite every float of the gradient's interior, padded lanes included (from clean inputs).</summary>
        public bool Covering;

        /// <summary>It clears <see cref="Writes"/>.</summary>
        public bool Clears;

        public List<int> Reads = new();

        /// <summary>Decided by <see cref="AssignGradients"/>: add into the gradient instead of overwriting it.</summary>
        public bool Accumulate;

        public Func<IEnumerable<TrainingOp>> Emit = () => Array.Empty<TrainingOp>();
    }

    /// <summary>
    /// Decides, in backward order, whether each writer overwrites or accumulates (the first writer overwrites when it
    /// covers the tensor; otherwise the tensor is cleared first), then places the gradients and the pools' maxima first-fit
    /// in slots freed by those whose last reader ran before (lifetimes in backward order). Returns their floats per image.
    /// </summary>
    private int AssignGradients()
    {
        var initialized = new HashSet<int>();
        for (int i = 0; i < _nodes.Count; i++)
        {
            var n = _nodes[i];
            if (n.Writes < 0)
            {
                continue;
            }

            if (n.Clears)
            {
                initialized.Add(n.Writes);
                continue;
            }

            if (initialized.Add(n.Writes))
            {
                if (n.Covering)
                {
                    n.Accumulate = false;
                }
                else
                {
                    _nodes.Insert(i, ClearNode(n.Writes, n.When));
                    i++;
                    n.Accumulate = true;
                }
            }
            else
            {
                n.Accumulate = true;
            }
        }

        var first = new Dictionary<int, int>();
        var last = new Dictionary<int, int>();
        for (int i = 0; i < _nodes.Count; i++)
        {
            var n = _nodes[i];
            foreach (int t in n.Reads.Concat(n.Writes >= 0 ? new[] { n.Writes } : Array.Empty<int>()))
            {
                if (!first.ContainsKey(t))
                {
                    first[t] = i;
                }

                last[t] = i;
            }
        }

        foreach (int t in _readByEveryThread.Where(last.ContainsKey))
        {
            last[t] = _nodes.Count;
        }

        // the gradients and the pools' maxima (keys below -1, see MaximaKey), each live from its first writer to its last reader
        var shapes = first.Keys.Where(t => t >= 0).ToDictionary(t => t, GradientShape);
        int Floats(int t) => t >= 0 ? shapes[t].Floats : _maxima[MaximaTensor(t)].Floats;
        var (slotOf, slots) = Slots.Assign(first.Keys.OrderBy(t => first[t]).ThenBy(t => t),
            t => Planner.RoundUp(Math.Max(Floats(t), _m.CacheLineFloats), _m.CacheLineFloats), t => first[t], t => last[t]);

        var offsets = new int[slots.Count];
        int total = 0;
        for (int k = 0; k < slots.Count; k++)
        {
            offsets[k] = _gradientBase + total;
            total += slots[k];
        }

        foreach (var pair in slotOf)
        {
            if (pair.Key >= 0)
            {
                _gradients[pair.Key] = shapes[pair.Key] with { Offset = offsets[pair.Value] };
            }
            else
            {
                _maxima[MaximaTensor(pair.Key)] = _maxima[MaximaTensor(pair.Key)] with { Offset = offsets[pair.Value] };
            }
        }

        return total;
    }

    private Node ClearNode(int tensor, When when) => new()
    {
        When = when,
        Writes = tensor,
        Clears = true,
        Emit = () => new TrainingOp[] { new ClearOp(Grad(tensor)) { When = when } },
    };

    /// <summary>Grouped convolutions keep their out-of-group weights at zero: each thread masks its weight gradient at the end.</summary>
    private IEnumerable<TrainingOp> MaskGroups()
    {
        foreach (var l in _layers.Where(l => l.Kind == TrainableKind.Conv && l.Groups > 1))
        {
            var step = _plan.Steps.First(s => s.Layer == l.Layer && s.Kind == StepKind.Conv);
            if (!_graph.Active[IndexOf(step)])
            {
                continue;
            }

            var conv = (ConvKernel)step.Kernel;
            yield return new MaskGroupsOp
            {
                Gradient = l.WeightGradient,
                Filters = l.Units,
                Channels = l.Channels,
                Groups = l.Groups,
                KernelH = l.KernelH,
                KernelW = l.KernelW,
                PaddedFilters = conv.Y.Cp,
                TileFloats = conv.TileFloats,
            };
        }
    }

    private int IndexOf(StepPlan step)
    {
        for (int s = 0; s < _plan.Steps.Count; s++)
        {
            if (ReferenceEquals(_plan.Steps[s], step))
            {
                return s;
            }
        }

        throw new InvalidOperationException("step not in the plan");
    }

    /// <summary>How this width lays out a trainable layer's parameters and transposed weights.</summary>
    private ParameterPack Pack(TrainableLayer l)
    {
        var step = _plan.Steps.First(s => s.Layer == l.Layer && s.Kind is StepKind.Conv or StepKind.DepthwiseConv or StepKind.Dense or StepKind.BatchNorm);
        var y = T(step.Output);
        int x = step.Inputs[0];
        bool hasGradient = _gradients.ContainsKey(x) && l.TransposedField is not null;
        var g = hasGradient ? Grad(x) : null;
        switch (l.Kind)
        {
            case TrainableKind.Conv:
                var conv = (ConvKernel)step.Kernel;
                return new ParameterPack
                {
                    Layer = l,
                    PaddedUnits = y.Cp,
                    TileFloats = conv.TileFloats,
                    GradientChannels = g?.Cp ?? 0,
                    TransposedFloats = g is null ? 0 : l.KernelH * l.KernelW * l.Units * g.Cp,
                };
            case TrainableKind.Dense:
                int gradientFloats = g is null ? 0 : g.Layout == Layout.Flat ? g.Cp : g.H * g.W * g.Cp;
                return new ParameterPack
                {
                    Layer = l,
                    PaddedUnits = y.Cp,
                    DenseHwc = T(x).Layout == Layout.Hwc,
                    BlockUnits = l.SplitColumns ? V : 0,
                    GradientHwc = g is { Layout: Layout.Hwc },
                    GradientChannels = g?.Cp ?? 0,
                    GradientFloats = gradientFloats,
                    TransposedFloats = l.Units * gradientFloats,
                };
            default:
                return new ParameterPack { Layer = l, PaddedUnits = y.Cp };
        }
    }
}
