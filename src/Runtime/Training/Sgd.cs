using System;
using System.Collections.Generic;

namespace CnnGen.Training;

/// <summary>The hyper-parameters of <see cref="Sgd"/>, with PyTorch's defaults (<c>torch.optim.SGD</c>).</summary>
public sealed record SgdOptions
{
    /// <summary>The learning rate (PyTorch requires it too: there is no default).</summary>
    public required double LearningRate { get; init; }

    /// <summary>The momentum factor; 0 (the default) keeps no buffer.</summary>
    public double Momentum { get; init; }

    /// <summary>The dampening of the momentum (the new gradient is scaled by <c>1 - dampening</c>); default 0.</summary>
    public double Dampening { get; init; }

    /// <summary>The L2 penalty, added to the gradient as <c>weight_decay * param</c>; default 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Nesterov momentum (needs a positive momentum and zero dampening); default false.</summary>
    public bool Nesterov { get; init; }
}

/// <summary>
/// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay, exactly as PyTorch 1.13's
/// <c>torch.optim.SGD</c> (<c>maximize=False</c>). Per element, in float32 with the scalars rounded from double:
/// <code>
/// d = g + weight_decay * p                      (if weight_decay != 0)
/// buf = d                                       (first step: PyTorch clones the gradient, no dampening)
/// buf = buf * momentum + (1 - dampening) * d    (later steps)
/// d = nesterov ? d + momentum * buf : buf       (if momentum != 0)
/// p = p - lr * d
/// </code>
/// The state is one <c>momentum_buffer</c> per parameter when momentum is not 0.
/// </summary>
public sealed class Sgd : Optimizer
{
    private const string MomentumBuffer = "momentum_buffer";

    /// <summary>Creates the optimizer.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="options">The hyper-parameters.</param>
    /// <exception cref="ArgumentException">A parameter list problem (see <see cref="Optimizer"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range, or Nesterov is asked without momentum or with dampening.</exception>
    public Sgd(IEnumerable<Parameter> parameters, SgdOptions options)
        : base(parameters, (options ?? throw new ArgumentNullException(nameof(options))).LearningRate)
    {
        Check(options);
        Options = options;
        AllocateBuffers(BufferNamesFor(options));
    }

    /// <inheritdoc/>
    public override string Name => "SGD";

    /// <summary>The hyper-parameters (replaced by <see cref="Optimizer.LoadState(TensorSet)"/>); the learning rate in use is <see cref="Optimizer.LearningRate"/>.</summary>
    public SgdOptions Options { get; private set; }

    /// <inheritdoc/>
    private protected override void Update(int index, long step, int start, int length)
    {
        Parameter parameter = At(index);
        SgdOptions o = Options;
        var scalars = new SgdScalars(LearningRate, o.Momentum, o.Dampening, o.WeightDecay, o.Nesterov, firstStep: step == 1);
        Span<float> value = parameter.Value, gradient = parameter.Gradient;
        Span<float> buffer = o.Momentum != 0 ? Buffer(0, index).Span.Slice(start, length) : Span<float>.Empty;
        TrainingMath.Sgd(value.Slice(start, length), gradient.Slice(start, length), buffer, scalars);
    }

    /// <inheritdoc/>
    private protected override void WriteOptions(Dictionary<string, string> metadata)
    {
        metadata["momentum"] = Text(Options.Momentum);
        metadata["dampening"] = Text(Options.Dampening);
        metadata["weight_decay"] = Text(Options.WeightDecay);
        metadata["nesterov"] = Text(Options.Nesterov);
    }

    /// <inheritdoc/>
    private protected override (string[] BufferNames, Action Apply) ReadOptions(IReadOnlyDictionary<string, string> metadata)
    {
        var options = new SgdOptions
        {
            LearningRate = ReadDouble(metadata, "initial_lr", 0, double.MaxValue),
            Momentum = ReadDouble(metadata, "momentum", 0, double.MaxValue),
            Dampening = ReadDouble(metadata, "dampening", double.MinValue, double.MaxValue),
            WeightDecay = ReadDouble(metadata, "weight_decay", 0, double.MaxValue),
            Nesterov = ReadBool(metadata, "nesterov"),
        };
        return (CheckLoaded(() =>
        {
            Check(options);
            return BufferNamesFor(options);
        }), () => Options = options);
    }

    private static string[] BufferNamesFor(SgdOptions options) => options.Momentum != 0 ? [MomentumBuffer] : [];

    private static void Check(SgdOptions options)
    {
        CheckRange(options.Momentum, 0, double.MaxValue, false, "The momentum", nameof(options));
        CheckRange(options.Dampening, double.MinValue, double.MaxValue, false, "The dampening", nameof(options));
        CheckRange(options.WeightDecay, 0, double.MaxValue, false, "The weight decay", nameof(options));
        if (options.Nesterov && (options.Momentum <= 0 || options.Dampening != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Nesterov momentum requires a momentum and zero dampening (as in PyTorch).");
        }
    }
}
