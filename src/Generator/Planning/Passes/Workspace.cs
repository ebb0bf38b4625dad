using System;
using System.Collections.Generic;
using System.Linq;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// Workspace slots: each tensor lives from the step that writes it to the last step that reads it, and is placed
/// first-fit into a slot freed before it is written (<see cref="PlanOptions.ReuseSlots"/>; otherwise every tensor
/// keeps its own slot). Memory is then bounded by the widest cut of the graph, not its depth.
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

        var direct = new HashSet<int>(steps.Where(s => s.DirectOutput).Select(s => s.Output));
        var order = Enumerable.Range(0, tensors.Count).Where(t => !tensors[t].External && first[t] != int.MaxValue && !direct.Contains(t)).OrderBy(t => first[t]).ToList();
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

        return (int)total;
    }
}
