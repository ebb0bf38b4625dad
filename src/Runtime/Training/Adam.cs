using System;
using System.Collections.Generic;

namespace CnnGen.Training;

/// <summary>The hyper-parameters <see cref="Adam"/> and <see cref="AdamW"/> share, with PyTorch's defaults.</summary>
public abstract record AdamFamilyOptions
{
    private protected AdamFamilyOptions()
    {
    }

    /// <summary>The learning rate; default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>The decay of the first moment (<c>betas[0]</c>); default 0.9.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>The decay of the second moment (<c>betas[1]</c>); default 0.999.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Added to the denominator; default 1e-8.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>
    /// The weight decay: for <see cref="Adam"/> an L2 penalty added to the gradient (<c>g + weight_decay * p</c>,
    /// default 0); for <see cref="AdamW"/> decoupled, <c>p *= 1 - lr * weight_decay</c> before the update (default 0.01).
    /// </summary>
    public double WeightDecay { get; init; }

    /// <summary>The AMSGrad variant (keeps the running maximum of the second moment); default false.</summary>
    public bool AmsGrad { get; init; }
}

/// <summary>The hyper-parameters of <see cref="Adam"/>, with PyTorch's defaults (<c>torch.optim.Adam</c>: weight decay 0).</summary>
public sealed record AdamOptions : AdamFamilyOptions;

/// <summary>The hyper-parameters of <see cref="AdamW"/>, with PyTorch's defaults (<c>torch.optim.AdamW</c>: weight decay 0.01).</summary>
public sealed record AdamWOptions : AdamFamilyOptions
{
    /// <summary>Creates the options with PyTorch's AdamW defaults.</summary>
    public AdamWOptions()
    {
        WeightDecay = 1e-2;
    }
}

/// <summary>
/// Adam, exactly as PyTorch 1.13's <c>torch.optim.Adam</c> (<c>maximize=False</c>, single-tensor path). With
/// <c>t</c> the 1-based step, per element in float32 (scalars rounded from double, bias corrections in double):
/// <code>
/// g = g + weight_decay * p                        (if weight_decay != 0)
/// m = m * beta1 + (1 - beta1) * g
/// v = v * beta2 + ((1 - beta2) * g) * g
/// vmax = max(vmax, v)                             (AMSGrad; then v means vmax below)
/// denom = sqrt(v) / sqrt(1 - beta2^t) + eps
/// p = p + (-(lr / (1 - beta1^t)) * m) / denom
/// </code>
/// The state is <c>exp_avg</c> (m), <c>exp_avg_sq</c> (v) and, with AMSGrad, <c>max_exp_avg_sq</c>.
/// </summary>
public sealed class Adam : Optimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="options">The hyper-parameters; <see langword="null"/> for PyTorch's defaults.</param>
    /// <exception cref="ArgumentException">A parameter list problem (see <see cref="Optimizer"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public Adam(IEnumerable<Parameter> parameters, AdamOptions? options = null)
        : base(parameters, (options ??= new AdamOptions()).LearningRate)
    {
        Options = options;
        AllocateBuffers(CheckAdam(options));
    }

    /// <inheritdoc/>
    public override string Name => "Adam";

    /// <summary>The hyper-parameters (replaced by <see cref="Optimizer.LoadState(TensorSet)"/>); the learning rate in use is <see cref="Optimizer.LearningRate"/>.</summary>
    public AdamOptions Options { get; private set; }

    /// <inheritdoc/>
    private protected override void Update(int index, long step, int start, int length) => UpdateAdam(index, step, start, length, Options, decoupled: false);

    /// <inheritdoc/>
    private protected override void WriteOptions(Dictionary<string, string> metadata) => WriteAdam(metadata, Options);

    /// <inheritdoc/>
    private protected override (string[] BufferNames, Action Apply) ReadOptions(IReadOnlyDictionary<string, string> metadata) =>
        ReadAdam(metadata, Options, o => Options = (AdamOptions)o);
}

/// <summary>
/// AdamW, exactly as PyTorch 1.13's <c>torch.optim.AdamW</c> (<c>maximize=False</c>, single-tensor path): the
/// weight decay is decoupled, <c>p = p * (1 - lr * weight_decay)</c> first, then the <see cref="Adam"/> update
/// without adding the decay to the gradient. Same state as <see cref="Adam"/>.
/// </summary>
public sealed class AdamW : Optimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="options">The hyper-parameters; <see langword="null"/> for PyTorch's defaults.</param>
    /// <exception cref="ArgumentException">A parameter list problem (see <see cref="Optimizer"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public AdamW(IEnumerable<Parameter> parameters, AdamWOptions? options = null)
        : base(parameters, (options ??= new AdamWOptions()).LearningRate)
    {
        Options = options;
        AllocateBuffers(CheckAdam(options));
    }

    /// <inheritdoc/>
    public override string Name => "AdamW";

    /// <summary>The hyper-parameters (replaced by <see cref="Optimizer.LoadState(TensorSet)"/>); the learning rate in use is <see cref="Optimizer.LearningRate"/>.</summary>
    public AdamWOptions Options { get; private set; }

    /// <inheritdoc/>
    private protected override void Update(int index, long step, int start, int length) => UpdateAdam(index, step, start, length, Options, decoupled: true);

    /// <inheritdoc/>
    private protected override void WriteOptions(Dictionary<string, string> metadata) => WriteAdam(metadata, Options);

    /// <inheritdoc/>
    private protected override (string[] BufferNames, Action Apply) ReadOptions(IReadOnlyDictionary<string, string> metadata) =>
        ReadAdam(metadata, Options, o => Options = (AdamWOptions)o);
}
