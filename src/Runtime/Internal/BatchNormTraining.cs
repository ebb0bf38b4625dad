using System;
using System.ComponentModel;

namespace CnnGen.Internal;

/// <summary>
/// The state of one batch norm layer of a generated trainer: its running statistics and the per-channel vectors its
/// kernels read in a step. A training forward pass computes per-image, per-channel partial sums (in double), which one
/// thread combines here in image order, so the statistics do not depend on the thread count; the running statistics are
/// updated in pending buffers and committed only when the step succeeds. Not for direct use.
/// </summary>
/// <remarks>
/// Formulas as <see cref="Reference{T}.BatchNorm2DTraining"/> and <see cref="Reference{T}.BatchNorm2DTrainingBackward"/>:
/// batch mean and biased variance over <c>images * height * width</c> values (sums in double, as PyTorch's CPU kernels
/// accumulate), <c>y = x * scale + shift</c> with <c>scale = gamma / sqrt(var + eps)</c>; running statistics with momentum
/// and the unbiased variance.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class BatchNormTraining
{
    private readonly float[] _pendingMean;
    private readonly float[] _pendingVariance;
    private bool _pending;

    /// <summary>Creates the state with PyTorch's initial running statistics (mean 0, variance 1).</summary>
    /// <param name="name">The layer's name (the <c>state_dict</c> prefix).</param>
    /// <param name="channels">Channels.</param>
    /// <param name="paddedChannels">Channels padded to the vector width.</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="gamma">The scale parameter's values (padded, shared with the parameter).</param>
    /// <param name="beta">The shift parameter's values (padded, shared with the parameter).</param>
    /// <param name="momentum">Weight of the batch statistics in the running ones (PyTorch's default 0.1).</param>
    public BatchNormTraining(string name, int channels, int paddedChannels, float eps, Memory<float> gamma, Memory<float> beta, float momentum = 0.1f)
    {
        Name = name;
        Channels = channels;
        Eps = eps;
        Momentum = momentum;
        Gamma = gamma;
        Beta = beta;
        RunningMean = new float[channels];
        RunningVariance = new float[channels];
        RunningVariance.AsSpan().Fill(1f);
        _pendingMean = new float[channels];
        _pendingVariance = new float[channels];
        BatchMean = new double[paddedChannels];
        Mean = new float[paddedChannels];
        Inverse = new float[paddedChannels];
        Scale = new float[paddedChannels];
        Shift = new float[paddedChannels];
        MeanGradient = new float[paddedChannels];
        Projection = new float[paddedChannels];
    }

    /// <summary>The layer's name.</summary>
    public string Name { get; }

    /// <summary>Channels.</summary>
    public int Channels { get; }

    /// <summary>Added to the variance.</summary>
    public float Eps { get; }

    /// <summary>Weight of the batch statistics in the running ones.</summary>
    public float Momentum { get; }

    /// <summary>The scale parameter's values.</summary>
    public Memory<float> Gamma { get; }

    /// <summary>The shift parameter's values.</summary>
    public Memory<float> Beta { get; }

    /// <summary>The running mean (PyTorch's <c>running_mean</c>).</summary>
    public float[] RunningMean { get; }

    /// <summary>The running variance (PyTorch's <c>running_var</c>).</summary>
    public float[] RunningVariance { get; }

    /// <summary>Training forward passes counted into the running statistics (PyTorch's <c>num_batches_tracked</c>).</summary>
    public long BatchesTracked { get; private set; }

    /// <summary>The batch mean in double (the second pass subtracts it).</summary>
    public double[] BatchMean { get; }

    /// <summary>The mean the step normalizes with (the batch's in training, the running one in evaluation).</summary>
    public float[] Mean { get; }

    /// <summary><c>1 / sqrt(var + eps)</c>.</summary>
    public float[] Inverse { get; }

    /// <summary><c>gamma / sqrt(var + eps)</c>: the forward's multiplier.</summary>
    public float[] Scale { get; }

    /// <summary><c>beta - mean * scale</c>: the forward's addend.</summary>
    public float[] Shift { get; }

    /// <summary>The backward's <c>sum(dy) / n</c>.</summary>
    public float[] MeanGradient { get; }

    /// <summary>The backward's <c>sum(dy * (x - mean)) * inv^2 / n</c>.</summary>
    public float[] Projection { get; }

    /// <summary>Whether a training forward left running statistics to commit.</summary>
    internal bool HasPending => _pending;

    /// <summary>
    /// The batch mean from every image's per-channel sums: <paramref name="statistics"/>[offset + image * stride + c],
    /// summed in image order in double.
    /// </summary>
    public void CombineMean(double[] statistics, int offset, int stride, int images, long values)
    {
        for (int c = 0; c < Channels; c++)
        {
            double sum = 0;
            for (int i = 0; i < images; i++)
            {
                sum += statistics[offset + ((long)i * stride) + c];
            }

            BatchMean[c] = sum / values;
        }
    }

    /// <summary>
    /// The biased batch variance from every image's per-channel sums of squared deviations; sets the forward's scale and
    /// shift and the pending running statistics (momentum, unbiased variance).
    /// </summary>
    public void CombineVariance(double[] statistics, int offset, int stride, int images, long values)
    {
        float n = values;
        ReadOnlySpan<float> gamma = Gamma.Span, beta = Beta.Span;
        for (int c = 0; c < Channels; c++)
        {
            double squares = 0;
            for (int i = 0; i < images; i++)
            {
                squares += statistics[offset + ((long)i * stride) + c];
            }

            float mean = (float)BatchMean[c];
            float variance = (float)(squares / values);
            float inverse = 1f / MathF.Sqrt(variance + Eps);
            Mean[c] = mean;
            Inverse[c] = inverse;
            Scale[c] = inverse * gamma[c];
            Shift[c] = beta[c] - (mean * Scale[c]);
            float unbiased = variance * n / (n - 1);
            _pendingMean[c] = ((1f - Momentum) * RunningMean[c]) + (Momentum * mean);
            _pendingVariance[c] = ((1f - Momentum) * RunningVariance[c]) + (Momentum * unbiased);
        }

        _pending = true;
    }

    /// <summary>Evaluation: normalize with the running statistics (as the inference class does).</summary>
    public void PrepareEvaluation()
    {
        ReadOnlySpan<float> gamma = Gamma.Span, beta = Beta.Span;
        for (int c = 0; c < Channels; c++)
        {
            double s = gamma[c] / Math.Sqrt((double)RunningVariance[c] + Eps);
            Mean[c] = RunningMean[c];
            Inverse[c] = (float)(1 / Math.Sqrt((double)RunningVariance[c] + Eps));
            Scale[c] = (float)s;
            Shift[c] = (float)(beta[c] - (RunningMean[c] * s));
        }
    }

    /// <summary>
    /// The backward's per-channel sums over the batch: <paramref name="statistics"/> holds, per image, the sums of
    /// <c>dy</c> (channels 0..) and of <c>dy * (x - mean)</c> (from <paramref name="offset"/> + padded channels), summed in
    /// image order in double. Adds the parameter gradients to <paramref name="gammaGradient"/> and
    /// <paramref name="betaGradient"/> and sets <see cref="MeanGradient"/> and <see cref="Projection"/>.
    /// </summary>
    public void CombineGradients(double[] statistics, int offset, int stride, int images, long values, Span<float> gammaGradient, Span<float> betaGradient)
    {
        float n = values;
        int dots = Mean.Length;
        for (int c = 0; c < Channels; c++)
        {
            double sumAccumulator = 0, dotAccumulator = 0;
            for (int i = 0; i < images; i++)
            {
                long at = offset + ((long)i * stride) + c;
                sumAccumulator += statistics[at];
                dotAccumulator += statistics[at + dots];
            }

            float sum = (float)sumAccumulator, dot = (float)dotAccumulator, inverse = Inverse[c];
            MeanGradient[c] = sum / n;
            Projection[c] = dot * inverse * inverse / n;
            gammaGradient[c] += dot * inverse;
            betaGradient[c] += sum;
        }
    }

    /// <summary>Makes the pending running statistics the running ones (the step succeeded).</summary>
    internal void Commit()
    {
        if (_pending)
        {
            _pendingMean.CopyTo(RunningMean, 0);
            _pendingVariance.CopyTo(RunningVariance, 0);
            BatchesTracked++;
            _pending = false;
        }
    }

    /// <summary>Drops the pending running statistics (the step was refused).</summary>
    internal void Discard() => _pending = false;

    /// <summary>Sets the running statistics (loading).</summary>
    internal void SetRunning(ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, long batchesTracked)
    {
        mean.CopyTo(RunningMean);
        variance.CopyTo(RunningVariance);
        BatchesTracked = batchesTracked;
        _pending = false;
    }
}
