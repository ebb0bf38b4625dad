using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>Kernel sharing: which steps run one kernel, and the names a kernel spec is built with.</summary>
internal sealed partial class KernelSpecs
{
    /// <summary>
    /// Groups the steps whose kernels are equal once names are left out (<see cref="KernelNames.Identity"/>), and names
    /// each group of two or more once: its method (<see cref="Naming.SharedMethod"/>) and its summary (the layers it runs).
    /// </summary>
    private void Share()
    {
        var groups = new Dictionary<KernelSpec, List<PlanStep>>();
        var order = new List<List<PlanStep>>();
        foreach (var s in _g.Steps.Where(s => s.Kind is not (StepKind.PackInput or StepKind.CopyOutput)))
        {
            var identity = Kernel(s, KernelNames.Identity);
            if (!groups.TryGetValue(identity, out var group))
            {
                groups.Add(identity, group = new List<PlanStep>());
                order.Add(group);
            }

            group.Add(s);
        }

        var taken = new HashSet<string>(Naming.Reserved.Concat(_common.LayerIdentifiers.SelectMany(id => new[] { id, id + "Softmax" })), StringComparer.OrdinalIgnoreCase);
        foreach (var group in order.Where(g => g.Count > 1))
        {
            var first = group[0];
            var names = KernelNames.Shared(
                Naming.SharedMethod(first, _g.Layers, taken),
                Naming.SharedTitle(first, _g, group.Select(s => _g.Layers[s.Layer].Spec.Name).ToList()));
            foreach (var s in group)
            {
                _shared.Add(s, names);
            }
        }
    }

    /// <summary>
    /// The names a kernel spec is built with. A step's own kernel keeps the step's names; a kernel shared by several
    /// steps is named once for all of them and sees its tensors under their roles (<c>x</c>, <c>y</c>, <c>r</c>: its
    /// parameters); an identity, what sharing compares, has no names at all, so two steps whose kernels differ only
    /// in names have equal identities.
    /// </summary>
    private sealed class KernelNames
    {
        private readonly string? _layer;
        private readonly bool _anonymous;

        private KernelNames(string method, string title, string? layer, bool anonymous)
        {
            Method = method;
            Title = title;
            _layer = layer;
            _anonymous = anonymous;
        }

        /// <summary>No names: what decides whether two steps can share a kernel.</summary>
        public static KernelNames Identity { get; } = new("Kernel", string.Empty, string.Empty, anonymous: true);

        public string Method { get; }

        public string Title { get; }

        public bool IsIdentity => ReferenceEquals(this, Identity);

        /// <summary>A step's own kernel: its layer's method name and the step's title.</summary>
        public static KernelNames Own(string method, string title) => new(method, title, null, anonymous: false);

        /// <summary>A kernel several steps call: one method and summary; comments say "each layer" instead of a name.</summary>
        public static KernelNames Shared(string method, string title) => new(method, title, "each layer", anonymous: true);

        /// <summary>The layer as the kernel's comments name it.</summary>
        public string Layer(string own) => _layer ?? own;

        /// <summary>A layer fused into the kernel (a residual Add, a max pool) as its comments name it.</summary>
        public string Fused(string own) => _anonymous ? (IsIdentity ? string.Empty : "the fused layer") : own;

        /// <summary>A tensor as the kernel sees it: itself, or (shared, identity) only its shape and layout, named by its role.</summary>
        public TensorPlan Tensor(TensorPlan t, string role) => _anonymous ? t with { Id = -1, Name = role, Variable = role, Offset = 0 } : t;
    }
}
