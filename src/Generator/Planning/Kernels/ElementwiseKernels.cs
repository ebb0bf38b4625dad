using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Kernels;

/// <summary>A stand-alone activation over every stored vector.</summary>
internal sealed record ActivationKernel : KernelSpec
{
    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }

    public required ActivationSpec Activation { get; init; }
}

/// <summary>An eval-mode batch norm that could not be folded: y = x * scale + shift per channel (computed at load).</summary>
internal sealed record BatchNormKernel : KernelSpec
{
    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }

    public required float Eps { get; init; }

    public required ActivationSpec Activation { get; init; }
}

/// <summary>An element-wise sum of equal-shaped inputs.</summary>
internal sealed record AddKernel : KernelSpec
{
    public required EquatableArray<TensorPlan> Inputs { get; init; }

    public required TensorPlan Y { get; init; }

    public required ActivationSpec Activation { get; init; }
}

/// <summary>Channels of each input in order.</summary>
internal sealed record ConcatKernel : KernelSpec
{
    public required EquatableArray<TensorPlan> Inputs { get; init; }

    public required TensorPlan Y { get; init; }

    /// <summary>Where each input's channels start in the output pixel.</summary>
    public required EquatableArray<int> ChannelOffsets { get; init; }
}

/// <summary>A max-subtracted softmax over each pixel's channels (or the flat vector).</summary>
internal sealed record SoftmaxKernel : KernelSpec
{
    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }
}
