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

/// <summary>
/// An element-wise product: of two equal-shaped inputs, or of a map and a per-channel scale (a C x 1 x 1 tensor or a flat
/// vector of C, stored alike: one padded vector of channels) broadcast over the map's pixels.
/// </summary>
internal sealed record MultiplyKernel : KernelSpec
{
    /// <summary>The first operand, or the map when <see cref="Broadcast"/>.</summary>
    public required TensorPlan X { get; init; }

    /// <summary>The second operand, or the per-channel scale when <see cref="Broadcast"/>.</summary>
    public required TensorPlan Other { get; init; }

    /// <summary><see cref="Other"/> is one value per channel, broadcast over every pixel of <see cref="X"/>.</summary>
    public required bool Broadcast { get; init; }

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
