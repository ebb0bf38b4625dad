using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning;

/// <summary>
/// Turns a shaped network into a forward pass for one vector width: fuses what can be fused (batch norm into
/// the convolution's weights, activations into their producer's store), chooses each tensor's layout and
/// zero border, assigns workspace slots by lifetime, and sizes each kernel's register tile.
/// </summary>
internal static class Planner
{
    private sealed class Step
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
        public int FusedPool = -1;
        public int TileP;
        public int TileB;
        public int GroupTileB;
    }

    private sealed class Tensor
    {
        public string Name = string.Empty;
        public Layout Layout;
        public int C, H, W;
        public int BT, BL, BB, BR;
        public bool External;
        public int Offset;
    }

    public static NetworkPlan Plan(ShapedNetwork net, int width)
    {
        var layers = net.Layers;
        int n = layers.Count;
        var uses = new int[n];
        for (int i = 0; i < n; i++)
        {
            foreach (int j in layers[i].Inputs)
            {
                if (j >= 0)
                {
                    uses[j]++;
                }
            }
        }

        uses[net.OutputLayer]++;

        var tensors = new List<Tensor> { new() { Name = "input", Layout = Layout.Chw, C = net.Input.C, H = net.Input.H, W = net.Input.W, External = true } };
        var steps = new List<Step>();
        var tensorOf = new int[n];
        var producer = new Dictionary<int, Step>();
        int TensorOfInput(int j) => j < 0 ? 0 : tensorOf[j];

        int NewTensor(ShapedLayer l)
        {
            tensors.Add(new Tensor
            {
                Name = l.Spec.Name,
                Layout = l.Out.Flat ? Layout.Flat : Layout.Hwc,
                C = l.Out.C,
                H = l.Out.Flat ? 1 : l.Out.H,
                W = l.Out.Flat ? 1 : l.Out.W,
            });
            return tensors.Count - 1;
        }

        Step AddStep(StepKind kind, int layer, Activation act = Activation.None)
        {
            var l = layers[layer];
            var s = new Step { Kind = kind, Layer = layer, Act = act, Alpha = l.Spec.Alpha };
            s.Inputs.AddRange(l.Inputs.Select(TensorOfInput));
            s.Output = NewTensor(l);
            tensorOf[layer] = s.Output;
            producer[s.Output] = s;
            steps.Add(s);
            return s;
        }

        // A producer can absorb a following element-wise layer when nothing else reads its output.
        bool CanFuseInto(int j, out Step s)
        {
            s = null!;
            if (j < 0 || uses[j] != 1 || j == net.OutputLayer || !producer.TryGetValue(tensorOf[j], out s))
            {
                return false;
            }

            return s.Act == Activation.None && s.Kind is StepKind.Conv or StepKind.DepthwiseConv or StepKind.Dense or StepKind.BatchNorm or StepKind.Add;
        }

        for (int i = 0; i < n; i++)
        {
            var l = layers[i];
            var spec = l.Spec;
            int src0 = l.Inputs[0];
            switch (spec.Kind)
            {
                case LayerKind.Conv2D:
                    bool depthwise = spec.Groups > 1 && spec.Groups == l.In.C && spec.Units == l.In.C;
                    AddStep(depthwise ? StepKind.DepthwiseConv : StepKind.Conv, i, spec.Activation == Activation.Softmax ? Activation.None : spec.Activation);
                    break;
                case LayerKind.Dense:
                    AddStep(StepKind.Dense, i, spec.Activation == Activation.Softmax ? Activation.None : spec.Activation);
                    break;
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                    AddStep(StepKind.Pool, i);
                    break;
                case LayerKind.GlobalAvgPool2D:
                case LayerKind.GlobalMaxPool2D:
                    AddStep(StepKind.GlobalPool, i);
                    break;
                case LayerKind.Flatten:
                case LayerKind.Dropout:
                    tensorOf[i] = TensorOfInput(src0);
                    break;
                case LayerKind.BatchNorm2D:
                    if (src0 >= 0 && uses[src0] == 1 && src0 != net.OutputLayer && producer.TryGetValue(tensorOf[src0], out var conv)
                        && conv.Kind is StepKind.Conv or StepKind.DepthwiseConv && conv.Act == Activation.None && conv.FoldedBn < 0)
                    {
                        conv.FoldedBn = i;
                        conv.Act = spec.Activation;
                        conv.Alpha = spec.Alpha;
                        tensorOf[i] = tensorOf[src0];
                    }
                    else
                    {
                        AddStep(StepKind.BatchNorm, i, spec.Activation);
                    }

                    break;
                case LayerKind.Add:
                    AddStep(StepKind.Add, i, spec.Activation);
                    break;
                case LayerKind.Concat:
                    AddStep(StepKind.Concat, i);
                    break;
                case LayerKind.Activation when spec.Activation == Activation.Softmax:
                    break;
                case LayerKind.Activation:
                    if (CanFuseInto(src0, out var into))
                    {
                        into.Act = spec.Activation;
                        into.Alpha = spec.Alpha;
                        tensorOf[i] = tensorOf[src0];
                    }
                    else
                    {
                        AddStep(StepKind.Activation, i, spec.Activation);
                    }

                    break;
            }

            // Softmax (stand-alone or fused into a layer) runs as its own step over the finished vector.
            if (spec.Activation == Activation.Softmax)
            {
                var s = new Step { Kind = StepKind.Softmax, Layer = i, Act = Activation.Softmax };
                int src = spec.Kind == LayerKind.Activation ? TensorOfInput(src0) : tensorOf[i];
                s.Inputs.Add(src);
                s.Output = NewTensor(l);
                tensorOf[i] = s.Output;
                producer[s.Output] = s;
                steps.Add(s);
            }
        }

        // The network input: read in place when every consumer can take planar CHW without a border,
        // otherwise pack it once into the layout its consumers want.
        var inputReaders = steps.Where(s => s.Inputs.Contains(0)).ToList();
        bool planarOk = inputReaders.All(s => s.Kind is StepKind.Conv or StepKind.Dense);
        int packed = -1;
        if (!planarOk || inputReaders.Any(s => s.Kind == StepKind.Conv && NeedsBorder(layers[s.Layer].Spec)))
        {
            tensors.Add(new Tensor { Name = "input (packed)", Layout = planarOk ? Layout.Chw : Layout.Hwc, C = net.Input.C, H = net.Input.H, W = net.Input.W });
            packed = tensors.Count - 1;
            var pack = new Step { Kind = StepKind.PackInput, Layer = -1, Output = packed };
            pack.Inputs.Add(0);
            foreach (var s in inputReaders)
            {
                for (int k = 0; k < s.Inputs.Count; k++)
                {
                    if (s.Inputs[k] == 0)
                    {
                        s.Inputs[k] = packed;
                    }
                }
            }

            steps.Insert(0, pack);
        }

        int outputTensor = tensorOf[net.OutputLayer];
        var copy = new Step { Kind = StepKind.CopyOutput, Layer = net.OutputLayer, Output = -1 };
        copy.Inputs.Add(outputTensor);
        steps.Add(copy);
        FuseResidualAdds(steps);
        FuseDepthwisePointwise(steps, layers, tensors);

        // A convolution producing the network's output writes it in PyTorch's NCHW order itself (through a small
        // transposing stage per tile), instead of filling a channels-last tensor for a separate copy.
        var copyStep = steps[steps.Count - 1];
        int outTensor = copyStep.Inputs[0];
        var producerOfOutput = steps.FirstOrDefault(s => s.Output == outTensor);
        if (producerOfOutput is { Kind: StepKind.Conv } && outTensor != 0 && tensors[outTensor].Layout == Layout.Hwc
            && steps.Count(s => s.Inputs.Contains(outTensor)) == 1)
        {
            producerOfOutput.DirectOutput = true;
            steps.Remove(copyStep);
        }

        // Zero borders: each tensor keeps the largest padding any convolution reading it needs.
        foreach (var s in steps)
        {
            if (s.Kind is StepKind.Conv or StepKind.DepthwiseConv)
            {
                var spec = layers[s.Layer].Spec;
                var t = tensors[s.Inputs[0]];
                t.BT = Math.Max(t.BT, spec.PadTop);
                t.BL = Math.Max(t.BL, spec.PadLeft);
                t.BB = Math.Max(t.BB, spec.PadBottom);
                t.BR = Math.Max(t.BR, spec.PadRight);
            }
        }

        // A first convolution with few input channels and fewer filters than half a vector wastes most lanes when
        // vectorized over filters; it reads the planar input along the width instead (vectors of output pixels).
        foreach (var s in steps.ToList())
        {
            var l = s.Layer >= 0 ? layers[s.Layer] : null;
            if (s.Kind == StepKind.Conv && l is not null && tensors[s.Inputs[0]].Layout == Layout.Chw && s.FusedAdd < 0 && !s.DirectOutput
                && l.Spec.Groups == 1 && l.Spec.StrideW == 1 && l.In.C <= 4 && l.Out.C * 2 <= width && l.Out.W >= width)
            {
                s.Kind = StepKind.ConvPixels;
                FusePixelPool(s, steps, layers, width);
            }
        }

        // Register tiles.
        foreach (var s in steps)
        {
            if (s.Kind == StepKind.Conv)
            {
                var l = layers[s.Layer];
                (s.TileP, s.TileB) = ConvTile(l, width, Registers(width), pixelMultiple: s.DirectOutput && l.Out.W >= 8 ? 8 : 1);
            }
            else if (s.Kind == StepKind.DepthwiseConv)
            {
                var l = layers[s.Layer];
                (s.TileP, s.TileB) = DepthwiseTile(l, Registers(width));
            }
            else if (s.Kind == StepKind.Dense)
            {
                int nb = (layers[s.Layer].Out.C + width - 1) / width;
                s.TileB = Math.Min(nb, width == 8 ? 8 : 12);
                s.GroupTileB = Math.Min(nb, width == 8 ? 2 : 3);
            }
        }

        // Workspace slots: a tensor lives from the step that writes it to the last step that reads it.
        var last = new int[tensors.Count];
        var first = new int[tensors.Count];
        for (int t = 0; t < tensors.Count; t++)
        {
            first[t] = int.MaxValue;
            last[t] = -1;
        }

        for (int si = 0; si < steps.Count; si++)
        {
            var s = steps[si];
            foreach (int t in s.Inputs)
            {
                last[t] = Math.Max(last[t], si);
            }

            if (s.Output >= 0)
            {
                first[s.Output] = Math.Min(first[s.Output], si);
                last[s.Output] = Math.Max(last[s.Output], si);
            }
        }

        var slots = new List<(int Size, int FreeAfter)>();
        var slotOf = new int[tensors.Count];
        var direct = new HashSet<int>(steps.Where(s => s.DirectOutput).Select(s => s.Output));
        var order = Enumerable.Range(0, tensors.Count).Where(t => !tensors[t].External && first[t] != int.MaxValue && !direct.Contains(t)).OrderBy(t => first[t]).ToList();
        foreach (int t in order)
        {
            int size = Align(ToPlan(tensors[t], t, width).Floats);
            int best = -1;
            for (int k = 0; k < slots.Count; k++)
            {
                if (slots[k].FreeAfter < first[t] && (best < 0 || Score(slots[k].Size, size) < Score(slots[best].Size, size)))
                {
                    best = k;
                }
            }

            if (best < 0)
            {
                slots.Add((size, last[t]));
                best = slots.Count - 1;
            }
            else
            {
                slots[best] = (Math.Max(slots[best].Size, size), last[t]);
            }

            slotOf[t] = best;
        }

        var slotOffset = new int[slots.Count];
        long total = 0;
        for (int k = 0; k < slots.Count; k++)
        {
            slotOffset[k] = (int)total;
            total += slots[k].Size;
        }

        foreach (int t in order)
        {
            tensors[t].Offset = slotOffset[slotOf[t]];
        }

        var tensorPlans = tensors.Select((t, id) => ToPlan(t, id, width)).ToEquatableArray();
        var stepPlans = steps.Select(s => new StepPlan(
            s.Kind, s.Layer, MethodName(s, layers), s.Inputs.ToEquatableArray(), s.Output, s.Act, s.Alpha, s.FoldedBn, s.FusedAdd, s.FusedDepthwise, s.RowFused, s.DirectOutput, s.FusedPool, s.TileP, s.TileB, s.GroupTileB)).ToEquatableArray();
        return new NetworkPlan(net, width, tensorPlans, stepPlans, (int)total, BatchGroup(net, width));
    }

    /// <summary>
    /// A two-input Add whose one operand is a convolution that nothing else reads, and whose other operand is
    /// ready before that convolution runs, is done in the convolution's store: the convolution reads the other
    /// operand as a residual, adds it to its accumulators, applies the Add's activation and writes the sum.
    /// </summary>
    private static void FuseResidualAdds(List<Step> steps)
    {
        for (int a = 0; a < steps.Count; a++)
        {
            var add = steps[a];
            if (add.Kind != StepKind.Add || add.Inputs.Count != 2 || add.Inputs[0] == add.Inputs[1])
            {
                continue;
            }

            for (int k = 0; k < 2; k++)
            {
                int t = add.Inputs[k], other = add.Inputs[1 - k];
                int ci = steps.FindIndex(s => s.Output == t);
                if (ci < 0 || steps[ci] is not { Kind: StepKind.Conv or StepKind.DepthwiseConv, Act: Activation.None } conv || conv.Inputs.Count != 1
                    || steps.Count(s => s.Inputs.Contains(t)) != 1)
                {
                    continue;
                }

                int otherProducer = steps.FindIndex(s => s.Output == other);
                if (other == 0 || otherProducer >= ci)
                {
                    continue;
                }

                conv.Inputs.Add(other);
                conv.Act = add.Act;
                conv.Alpha = add.Alpha;
                conv.FusedAdd = add.Layer;
                foreach (var s in steps)
                {
                    for (int i = 0; i < s.Inputs.Count; i++)
                    {
                        if (s.Inputs[i] == add.Output)
                        {
                            s.Inputs[i] = t;
                        }
                    }
                }

                steps.RemoveAt(a);
                a--;
                break;
            }
        }
    }

    /// <summary>
    /// Images per batch group when dense layers do at least half the work, else 1. The grouped dense tile is
    /// images x vectors accumulators: 6 x 2 for Vector256 (16 registers), 8 x 3 for Vector512 and Vector128 (32).
    /// </summary>
    public static int BatchGroup(ShapedNetwork net, int width)
    {
        long dense = net.Layers.Where(l => l.Spec.Kind == LayerKind.Dense).Sum(l => l.Macs);
        long all = net.Layers.Sum(l => l.Macs);
        return dense > 0 && dense * 2 >= all ? (width == 8 ? 6 : 8) : 1;
    }

    /// <summary>
    /// A depthwise convolution whose output only the next step reads, as a 1x1 stride-1 convolution (MobileNet's
    /// depthwise + pointwise pair), runs row by row inside that convolution: each depthwise output row goes to a
    /// one-row buffer that stays in L1 and is consumed at once, instead of a full tensor round-tripping through L2.
    /// </summary>
    private static void FuseDepthwisePointwise(List<Step> steps, EquatableArray<ShapedLayer> layers, List<Tensor> tensors)
    {
        for (int i = 0; i + 1 < steps.Count; i++)
        {
            var d = steps[i];
            var p = steps[i + 1];
            if (d.Kind != StepKind.DepthwiseConv || d.FusedAdd >= 0 || p.Kind != StepKind.Conv || p.FusedAdd >= 0
                || p.Inputs.Count != 1 || p.Inputs[0] != d.Output || steps.Count(s => s.Inputs.Contains(d.Output)) != 1)
            {
                continue;
            }

            var spec = layers[p.Layer].Spec;
            if (spec.KernelH != 1 || spec.KernelW != 1 || spec.StrideH != 1 || spec.StrideW != 1 || spec.Groups != 1
                || spec.PadTop + spec.PadLeft + spec.PadBottom + spec.PadRight != 0)
            {
                continue;
            }

            d.RowFused = true;
            p.FusedDepthwise = d.Layer;
            p.Inputs.Add(d.Inputs[0]); // the depthwise input stays alive until the pair runs
            var row = tensors[d.Output];
            row.H = 1;
            row.Name += " (one row at a time)";
        }
    }

    /// <summary>
    /// A 2x2 stride-2 max pool right after a pixel-vectorized first convolution (LeNet's conv1 + pool1) runs in the
    /// convolution's registers: two output rows at once, max across rows, then across neighbouring lanes, so the
    /// full-size output is never stored.
    /// </summary>
    private static void FusePixelPool(Step conv, List<Step> steps, EquatableArray<ShapedLayer> layers, int width)
    {
        int at = steps.IndexOf(conv);
        if (at + 1 >= steps.Count || conv.FusedAdd >= 0)
        {
            return;
        }

        var pool = steps[at + 1];
        var out0 = layers[conv.Layer].Out;
        if (pool.Kind != StepKind.Pool || pool.Inputs.Count != 1 || pool.Inputs[0] != conv.Output || steps.Count(s => s.Inputs.Contains(conv.Output)) != 1)
        {
            return;
        }

        var p = layers[pool.Layer].Spec;
        int blocks = (out0.W / width) + (out0.W % width != 0 ? 1 : 0);
        bool fits = 2 * blocks * out0.C <= AccumulatorBudget(Registers(width));
        if (p.Kind != LayerKind.MaxPool2D || p.KernelH != 2 || p.KernelW != 2 || p.StrideH != 2 || p.StrideW != 2 || p.DilationH != 1
            || p.PadTop + p.PadLeft != 0 || out0.H % 2 != 0 || out0.W % 2 != 0 || !fits)
        {
            return;
        }

        conv.FusedPool = pool.Layer;
        conv.Output = pool.Output;
        steps.Remove(pool);
    }

    private static bool NeedsBorder(LayerSpec s) => s.PadTop + s.PadLeft + s.PadBottom + s.PadRight > 0;

    private static long Score(int slot, int need) => slot >= need ? slot - need : (need - slot) * 4L;

    /// <summary>The immutable plan of a tensor (its size comes from <see cref="TensorPlan.Floats"/>).</summary>
    private static TensorPlan ToPlan(Tensor t, int id, int width) => new(
        id, t.Name, t.Layout, t.C, t.H, t.W, t.Layout == Layout.Chw ? t.C : RoundUp(t.C, width),
        t.BT, t.BL, t.BB, t.BR, t.Offset, t.External);

    /// <summary>Vector registers a plan assumes: 16 for Vector256 (a real AVX2 machine), 32 for AVX-512 and ARM64 NEON.</summary>
    public static int Registers(int width) => width == 8 ? 16 : 32;

    /// <summary>Accumulators a register tile may hold, leaving room for weights and broadcasts.</summary>
    public static int AccumulatorBudget(int registers) => registers == 16 ? 12 : 24;

    private static int Align(int floats) => RoundUp(Math.Max(floats, 16), 16);

    public static int RoundUp(int x, int m) => (x + m - 1) / m * m;

    private static string MethodName(Step s, EquatableArray<ShapedLayer> layers) => s.Kind switch
    {
        StepKind.PackInput => "PackInput",
        StepKind.CopyOutput => "CopyOutput",
        StepKind.Softmax when layers[s.Layer].Spec.Kind == LayerKind.Activation => LayerIdentifiers(layers)[s.Layer], // a [Softmax] layer
        StepKind.Softmax => LayerIdentifiers(layers)[s.Layer] + "Softmax", // Activation = Softmax on a dense layer: its second step
        _ => LayerIdentifiers(layers)[s.Layer],
    };

    /// <summary>
    /// A unique PascalCase identifier per layer, for its kernel methods and weight fields: layer names that map to the
    /// same identifier (<c>conv1</c> and <c>Conv1</c>) or to a fixed method name (<c>forward</c>) get their index appended.
    /// </summary>
    public static string[] LayerIdentifiers(EquatableArray<ShapedLayer> layers)
    {
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "Forward", "ForwardGroup", "PackInput", "CopyOutput" };
        var ids = new string[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            string id = Identifier(layers[i].Spec.Name);
            if (!taken.Add(id) || !taken.Add(id + "Softmax"))
            {
                id += "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                taken.Add(id);
                taken.Add(id + "Softmax");
            }

            ids[i] = id;
        }

        return ids;
    }

    /// <summary>A PascalCase C# identifier for a layer name (<c>layer1.conv2</c> becomes <c>Layer1Conv2</c>).</summary>
    public static string Identifier(string name)
    {
        var sb = new System.Text.StringBuilder();
        bool upper = true;
        foreach (char c in name)
        {
            if (char.IsLetterOrDigit(c))
            {
                sb.Append(upper ? char.ToUpperInvariant(c) : c);
                upper = false;
            }
            else
            {
                upper = true;
            }
        }

        if (sb.Length == 0 || char.IsDigit(sb[0]))
        {
            sb.Insert(0, 'L');
        }

        return sb.ToString();
    }

    /// <summary>
    /// Chooses the convolution's register tile (pixels x output-channel vectors) with a small cost model, in cycles
    /// per output row: each of the K = taps x input channels steps of a tile is bound by FMA throughput (2 per
    /// cycle), FMA latency (4 cycles per dependent accumulator chain) or loads (2 per cycle: a broadcast per
    /// pixel and a weight vector per channel vector); the tile's stores and set-up come once per tile, and a
    /// narrower last tile costs like a tile of its own.
    /// </summary>
    /// <param name="pixelMultiple">Tile widths must be a multiple of this (8 when the tile is transposed to NCHW in 8 x 8 blocks).</param>
    public static (int Pixels, int Vectors) ConvTile(ShapedLayer l, int width, int registers, int pixelMultiple = 1)
    {
        int nb = RoundUp(l.Out.C, width) / width;
        int ow = l.Out.W;
        long k = (long)l.Spec.KernelH * l.Spec.KernelW * (l.In.C / Math.Max(1, l.Spec.Groups) * Math.Max(1, l.Spec.Groups));
        int maxAcc = AccumulatorBudget(registers);
        (int, int) best = (1, 1);
        double bestCost = double.MaxValue;
        for (int tb = 1; tb <= Math.Min(4, nb); tb++)
        {
            if (nb % tb != 0)
            {
                continue;
            }

            for (int tp = 1; tp <= ow && tp * tb <= maxAcc; tp++)
            {
                if ((tp * tb) + tb + 1 > registers || tp % pixelMultiple != 0)
                {
                    continue;
                }

                int full = ow / tp, rest = ow % tp;
                double cost = (full * TileCost(tp, tb, k)) + (rest > 0 ? TileCost(rest, tb, k) : 0);
                cost *= nb / tb;
                if (cost < bestCost - 1e-9)
                {
                    bestCost = cost;
                    best = (tp, tb);
                }
            }
        }

        return best;
    }

    private static double TileCost(int tp, int tb, long k)
    {
        double fma = tp * tb / 2.0;
        double latency = 4.0;
        double loads = (tp + tb) / 2.0;
        return (k * Math.Max(fma, Math.Max(latency, loads))) + (tp * tb) + (2 * tb) + 8;
    }

    /// <summary>Depthwise: vectors over channels, pixels along the row; each accumulator needs its own input load.</summary>
    public static (int Pixels, int Vectors) DepthwiseTile(ShapedLayer l, int registers)
    {
        int ow = l.Out.W;
        int maxP = registers == 16 ? 6 : 12;
        int tp = Math.Min(ow, maxP);
        for (int p = tp; p >= Math.Max(1, tp - 2); p--)
        {
            if (ow % p == 0)
            {
                return (p, 1);
            }
        }

        return (tp, 1);
    }
}
