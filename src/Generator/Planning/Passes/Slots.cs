using System;
using System.Collections.Generic;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// Places tensors into slots by lifetime, first-fit: in the given order (by first use), each tensor takes the free slot
/// it fits best (freed before the tensor's first use; a slot that must grow costs four times its growth), else a new
/// one. The forward workspace (<see cref="Workspace"/>) and the trainer's gradients (<see cref="BackwardBuilder"/>) share it.
/// </summary>
internal static class Slots
{
    /// <summary>Returns each tensor's slot and every slot's floats.</summary>
    /// <param name="order">The tensors, in the order of their first use.</param>
    /// <param name="floats">A tensor's floats (already rounded as the caller stores it).</param>
    /// <param name="first">A tensor's first use.</param>
    /// <param name="last">A tensor's last use.</param>
    /// <param name="reuse">Whether a freed slot may be reused (otherwise every tensor gets a slot of its own).</param>
    public static (Dictionary<int, int> SlotOf, List<int> Sizes) Assign(
        IEnumerable<int> order, Func<int, int> floats, Func<int, int> first, Func<int, int> last, bool reuse = true)
    {
        var slots = new List<(int Size, int FreeAfter)>();
        var slotOf = new Dictionary<int, int>();
        foreach (int t in order)
        {
            int size = floats(t);
            int best = -1;
            for (int k = 0; k < slots.Count && reuse; k++)
            {
                if (slots[k].FreeAfter < first(t) && (best < 0 || Waste(slots[k].Size, size) < Waste(slots[best].Size, size)))
                {
                    best = k;
                }
            }

            if (best < 0)
            {
                slots.Add((size, last(t)));
                best = slots.Count - 1;
            }
            else
            {
                slots[best] = (Math.Max(slots[best].Size, size), last(t));
            }

            slotOf[t] = best;
        }

        return (slotOf, slots.ConvertAll(s => s.Size));
    }

    /// <summary>How badly a slot fits a tensor: spare floats, or four times the floats it must grow by.</summary>
    private static long Waste(int slot, int need) => slot >= need ? slot - need : (need - slot) * 4L;
}
