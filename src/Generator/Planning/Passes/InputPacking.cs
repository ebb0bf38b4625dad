using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// The network input is read in place when every reader is a convolution or dense layer taking planar CHW without a
/// border; otherwise one step packs it once (CHW with a zero border for a padded first convolution, HWC otherwise or for
/// a first convolution Winograd may compute),
/// checking it for NaN and infinity in the same pass.
/// </summary>
internal static class InputPacking
{
    public static void Run(PlanGraph g)
    {
        var steps = g.Steps;
        var inputReaders = steps.Where(s => s.Inputs.Contains(0)).ToList();
        // A Winograd convolution reads channel vectors of HWC pixels: its input is packed HWC (VGG's 64-channel input of a block).
        bool planarOk = inputReaders.All(s => s.Kind is StepKind.Conv or StepKind.Dense) && !inputReaders.Any(s => Winograd.WantsHwcInput(g, s));
        if (planarOk && !inputReaders.Any(s => s.Kind == StepKind.Conv && NeedsBorder(g.Layers[s.Layer].Spec)))
        {
            return;
        }

        var input = g.Net.Input;
        g.Tensors.Add(new PlanTensor { Name = "input (packed)", Layout = planarOk ? Layout.Chw : Layout.Hwc, C = input.C, H = input.H, W = input.W });
        int packed = g.Tensors.Count - 1;
        var pack = new PlanStep { Kind = StepKind.PackInput, Layer = -1, Output = packed };
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

    private static bool NeedsBorder(LayerSpec s) => s.PadTop + s.PadLeft + s.PadBottom + s.PadRight > 0;
}
