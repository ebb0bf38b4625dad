using System;
using System.Collections.Generic;
using System.Linq;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// Workspace slots: each tensor lives from the step that writes it to the last step that reads it, and is placed
/// first-fit into a slot freed before it is written (<see cref="PlanOptions.ReuseSlots"/>; otherwise every tensor
/// keeps its own slot). Memory is then bounded by the widest cut of the graph, not its depth. A Multiply whose map
/// operand dies there writes over it (<see cref="InPlace"/>).
/// </summary>
internal static class Workspace
{
    /// <summary>
    /// Assigns every workspace tensor's offset; returns the floats of one image's workspace. Throws
    /// <see cref="Shapes.LimitException"/> when it would not fit the ints generated code indexes it with (shape inference
    /// bounds the widest point, but first-fit can leave gaps).
    /// </summary>
    public static int Run(PlanGraph g, MachineModel m)
    {
        var tensors = g.Tensors;
        var steps = g.Steps;
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
                // A tensor no step writes (a kernel's scratch, Winograd's tiles) lives while its reader runs.
                first[t] = Math.Min(first[t], si);
                last[t] = Math.Max(last[t], si);
            }

            if (s.Output >= 0)
            {
                first[s.Output] = Math.Min(first[s.Output], si);
                last[s.Output] = Math.Max(last[s.Output], si);
            }
        }

        var inPlace = InPlace(g, m, last);
        var products = new HashSet<int>(inPlace.Select(p => p.Output));
        var direct = new HashSet<int>(steps.Where(s => s.DirectOutput).Select(s => s.Output));
        var order = Enumerable.Range(0, tensors.Count).Where(t => !tensors[t].External && first[t] != int.MaxValue && !direct.Contains(t) && !products.Contains(t)).OrderBy(t => first[t]).ToList();
        int line = m.CacheLineFloats;
        var (slotOf, slots) = Slots.Assign(order, t => Planner.RoundUp(Math.Max(g.ToPlan(t, m.Width).Floats, line), line), t => first[t], t => last[t], g.Options.ReuseSlots);

        var slotOffset = new int[slots.Count];
        long total = 0;
        for (int k = 0; k < slots.Count; k++)
        {
            slotOffset[k] = (int)Math.Min(total, int.MaxValue);
            total += slots[k];
        }

        if (total > Shapes.Limits.MaxWorkspaceFloats)
        {
            throw new Shapes.LimitException($"the {m.VectorType} plan needs a workspace of {Shapes.Limits.N(total)} floats, more than {Shapes.Limits.N(Shapes.Limits.MaxWorkspaceFloats)}");
        }

        foreach (int t in order)
        {
            tensors[t].Offset = slotOffset[slotOf[t]];
        }

        foreach (var (output, map) in inPlace)
        {
            tensors[output].Offset = tensors[map].Offset;
        }

        return (int)total;
    }

    /// <summary>
    /// The Multiply steps that write over their map operand (the product and the tensor whose slot it takes): where the map dies at the
    /// Multiply and both are stored alike without a border. Each element is read before it is written, so nothing is
    /// lost, and the product's cache lines are the ones just read instead of new ones (squeeze-and-excitation's scale over
    /// EfficientNet-B0's large early maps, which do not fit L2). The map then lives as long as the product.
    /// </summary>
    private static List<(int Output, int Map)> InPlace(PlanGraph g, MachineModel m, int[] last)
    {
        var inPlace = new List<(int Output, int Map)>();
        if (!g.Options.ReuseSlots)
        {
            return inPlace;
        }

        for (int si = 0; si < g.Steps.Count; si++)
        {
            var s = g.Steps[si];
            if (s.Kind != StepKind.Multiply || s.Output < 0 || s.DirectOutput)
            {
                continue;
            }

            var output = g.ToPlan(s.Output, m.Width);
            int at = s.Inputs.FindIndex(t => g.Tensors[t].H == g.Tensors[s.Output].H && g.Tensors[t].W == g.Tensors[s.Output].W);
            int map = at < 0 ? -1 : s.Inputs[at];
            if (map < 0 || g.Tensors[map].External || last[map] != si || output.HasBorder)
            {
                continue;
            }

            var input = g.ToPlan(map, m.Width);
            if (input.Layout == output.Layout && input.Cp == output.Cp && input.Floats == output.Floats && !input.HasBorder)
            {
                // A map that is itself an earlier product: the slot is its map's, which must now live as long.
                int root = inPlace.FindIndex(p => p.Output == map) is int k and >= 0 ? inPlace[k].Map : map;
                inPlace.Add((s.Output, root));
                g.Tensors[s.Output].Name += $" (written over {g.Tensors[root].Name})";
                last[root] = Math.Max(last[root], last[s.Output]);
            }
        }

        return inPlace;
    }
}
