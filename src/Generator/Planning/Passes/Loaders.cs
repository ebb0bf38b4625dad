using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// Names the class shell's loader methods, once every width is planned. Each weighted layer is loaded by a method that
/// reads its tensors (and a batch norm folded into it), then repacks them for the chosen width; the constructor calls
/// one per layer, so it grows by one line per layer instead of a block. Layers whose loading differs only in names
/// (same kind, shapes, folded batch norm and repacking at every width: ResNet's repeated blocks) call the same method
/// with their names as arguments.
/// </summary>
internal static class Loaders
{
    /// <summary>The loader method of each of <see cref="CommonPlan.Weights"/>, in its order.</summary>
    public static EquatableArray<string> Run(ShapedNetwork net, CommonPlan common, IReadOnlyList<NetworkPlan> plans)
    {
        var names = new Dictionary<LoaderKey, string>();
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var methods = new List<string>();
        for (int i = 0; i < common.Weights.Count; i++)
        {
            var key = Key(net, common.Weights[i], plans.Select(p => p.Packs[i]));
            if (!names.TryGetValue(key, out var method))
            {
                method = Naming.Unique(Name(net.Layers[common.Weights[i].Layer]), taken);
                names.Add(key, method);
            }

            methods.Add(method);
        }

        return methods.ToEquatableArray();
    }

    /// <summary>What a loader does, names left out: two layers with equal keys are loaded by the same code.</summary>
    private sealed record LoaderKey(WeightKind Kind, int Units, int InChannels, long InFeatures, int Groups, int KernelH, int KernelW, bool Bias, float Eps, float FoldedEps, EquatableArray<WeightPack> Packs);

    private static LoaderKey Key(ShapedNetwork net, WeightedLayer weights, IEnumerable<WeightPack> packs)
    {
        var spec = net.Layers[weights.Layer].Spec;
        var l = net.Layers[weights.Layer];
        var anonymous = weights with { Layer = -1, Local = string.Empty, Fields = EquatableArray<string>.Empty, FoldedBatchNorm = weights.FoldedBatchNorm >= 0 ? 0 : -1 };
        float foldedEps = weights.FoldedBatchNorm >= 0 ? net.Layers[weights.FoldedBatchNorm].Spec.Eps : 0f;
        return new LoaderKey(weights.Kind, spec.Units, l.In.C, l.In.Size, spec.Groups, spec.KernelH, spec.KernelW, spec.Bias, spec.Eps, foldedEps,
            packs.Select(p => p with { Weights = anonymous }).ToEquatableArray());
    }

    /// <summary>What the loader loads: <c>LoadConv3x3_64To64</c>, <c>LoadDepthwise3x3_144</c>, <c>LoadDense_4096To1000</c>, <c>LoadBatchNorm_64</c>.</summary>
    private static string Name(ShapedLayer l)
    {
        var spec = l.Spec;
        string window = I(spec.KernelH) + "x" + I(spec.KernelW);
        return spec.Kind switch
        {
            LayerKind.Dense => $"LoadDense_{I(l.In.Size)}To{I(spec.Units)}",
            LayerKind.BatchNorm2D => $"LoadBatchNorm_{I(l.In.C)}",
            _ when spec.Groups > 1 && spec.Groups == l.In.C && spec.Units == l.In.C => $"LoadDepthwise{window}_{I(spec.Units)}",
            _ when spec.Groups > 1 => $"LoadConv{window}_{I(l.In.C)}To{I(spec.Units)}Groups{I(spec.Groups)}",
            _ => $"LoadConv{window}_{I(l.In.C)}To{I(spec.Units)}",
        };
    }

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
}
