using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Passes;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning;

/// <summary>
/// Turns a shaped network into a forward pass per vector width, as a sequence of named passes over a
/// <see cref="PlanGraph"/>. The graph passes (fusion, input packing, output, borders) do not see a width, so their
/// result — and the <see cref="CommonPlan"/> the class shell is written from — is the same for every width by
/// construction. Each width then runs the width passes (first layer, tiling, workspace) on its own copy, and the
/// last pass writes every kernel's complete spec.
/// </summary>
internal static class Planner
{
    /// <summary>The runtime's <c>Transpose</c> moves 8 x 8 blocks: staging rows and NCHW tile widths are multiples of it.</summary>
    public const int TransposeBlock = 8;

    /// <summary>
    /// Most steps one forward method runs: a longer network's <c>Forward</c> calls parts of this many (about 60 bytes of IL
    /// and two locals each), so a 500-layer chain stays as far below the JIT's limits as ResNet-50 (58 steps, one part).
    /// </summary>
    public const int MaxStepsPerMethod = 64;

    /// <summary>Plans every target of <see cref="MachineModel.Targets"/> with the inference options.</summary>
    public static (CommonPlan Common, EquatableArray<NetworkPlan> Plans) Plan(ShapedNetwork net) =>
        Plan(net, PlanOptions.Inference, MachineModel.Targets);

    public static (CommonPlan Common, EquatableArray<NetworkPlan> Plans) Plan(ShapedNetwork net, PlanOptions options, IEnumerable<MachineModel> targets)
    {
        var graph = new PlanGraph(net, options);
        Lowering.Run(graph);
        InputPacking.Run(graph);
        Output.AddCopy(graph);
        ResidualAdds.Run(graph);
        DepthwiseRows.Run(graph);
        Output.WriteDirect(graph);
        Borders.Run(graph);

        var common = Common(graph);
        var plans = targets.Select(m => PlanWidth(graph.Clone(), m, common)).ToEquatableArray();
        return (common with { Loaders = Loaders.Run(net, common, plans.ToList()) }, plans);
    }

    /// <summary>What every width shares: identifiers, the weighted layers, input packing and batch grouping.</summary>
    private static CommonPlan Common(PlanGraph g)
    {
        var ids = Naming.LayerIdentifiers(g.Layers).ToEquatableArray();
        long dense = g.Layers.Where(l => l.Spec.Kind == LayerKind.Dense).Sum(l => l.Macs);
        long all = g.Layers.Sum(l => l.Macs);
        return new CommonPlan
        {
            Options = g.Options,
            LayerIdentifiers = ids,
            Weights = g.Steps.Where(s => s.HasWeights).Select(s => Naming.Weights(s, ids)).ToEquatableArray(),
            Loaders = EquatableArray<string>.Empty, // named once every width is planned
            PacksInput = g.Steps.Any(s => s.Kind == StepKind.PackInput),
            GroupsBatches = g.Options.GroupBatches && dense > 0 && dense * 2 >= all,
        };
    }

    private static NetworkPlan PlanWidth(PlanGraph g, MachineModel m, CommonPlan common)
    {
        FirstLayer.Run(g, m);
        PlanarPairs.Run(g, m);
        Tiling.Run(g, m);
        Winograd.Run(g, m);
        Splitting.Run(g, m);
        int workspace = Workspace.Run(g, m);
        int batchGroup = common.GroupsBatches ? m.BatchGroup : 1;
        if ((long)Math.Max(workspace, Math.Max(g.Net.Input.Size, g.Net.Output.Size)) * batchGroup > Limits.MaxWorkspaceFloats)
        {
            throw new LimitException($"the {m.VectorType} plan runs {batchGroup} images at once, and {batchGroup} images' workspace, inputs or outputs take more than {Limits.N(Limits.MaxWorkspaceFloats)} floats");
        }

        var tensors = Enumerable.Range(0, g.Tensors.Count).Select(t => g.ToPlan(t, m.Width)).ToEquatableArray();
        var specs = new KernelSpecs(g, m, common, tensors, workspace, batchGroup);
        var weighted = g.Steps.Where(s => s.HasWeights).ToList();
        if (!weighted.Select(s => s.Layer).SequenceEqual(common.Weights.Select(w => w.Layer)))
        {
            throw new InvalidOperationException($"the {m.VectorType} plan loads other layers than the shared plan");
        }

        var steps = g.Steps.Select(specs.Step).ToEquatableArray();
        var locals = Locals(g.Steps, tensors);
        return new NetworkPlan
        {
            Net = g.Net,
            Machine = m,
            KernelClass = "Kernels" + (m.Width * 32).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Tensors = tensors,
            Steps = steps,
            Locals = locals,
            Parts = Parts(g.Steps, steps, tensors, locals),
            Packs = weighted.Select((s, i) => specs.Pack(s, common.Weights[i])).ToEquatableArray(),
            WorkspaceFloats = workspace,
            BatchGroup = batchGroup,
        };
    }

    /// <summary>The workspace tensors <paramref name="steps"/> use, in tensor order.</summary>
    private static EquatableArray<int> Locals(IEnumerable<PlanStep> steps, EquatableArray<TensorPlan> tensors)
    {
        var used = new HashSet<int>(steps.SelectMany(s => s.DirectOutput ? s.Inputs : s.Inputs.Append(s.Output)));
        return tensors.Where(t => !t.External && used.Contains(t.Id)).Select(t => t.Id).ToEquatableArray();
    }

    /// <summary>Cuts the steps Forward runs into parts of at most <see cref="MaxStepsPerMethod"/> (a row-fused step goes with the step that runs it).</summary>
    private static EquatableArray<ForwardPart> Parts(List<PlanStep> working, EquatableArray<StepPlan> steps, EquatableArray<TensorPlan> tensors, EquatableArray<int> locals)
    {
        int run = steps.Count(s => !s.RowFused);
        if (run <= MaxStepsPerMethod)
        {
            return new[] { new ForwardPart { Suffix = string.Empty, First = 0, Count = run, Locals = locals, ChecksFinite = steps.Any(s => s.ChecksFinite) } }.ToEquatableArray();
        }

        var parts = new List<ForwardPart>();
        var members = new List<int>();
        int first = 0, n = 0;
        for (int i = 0; i < steps.Count; i++)
        {
            members.Add(i);
            if (steps[i].RowFused)
            {
                continue;
            }

            n++;
            if (n - first == MaxStepsPerMethod || n == run)
            {
                string suffix = string.Format(System.Globalization.CultureInfo.InvariantCulture, "_Steps{0}To{1}", first + 1, n);
                parts.Add(new ForwardPart
                {
                    Suffix = suffix,
                    First = first,
                    Count = n - first,
                    Locals = Locals(members.Select(m => working[m]), tensors),
                    ChecksFinite = members.Any(m => steps[m].ChecksFinite),
                });
                members.Clear();
                first = n;
            }
        }

        return parts.ToEquatableArray();
    }

    public static int RoundUp(int x, int m) => (x + m - 1) / m * m;
}
