using System;

namespace CnnGen.Training;

/// <summary>How a generated trainer runs: threads, vector width, the loss's label smoothing and the dropout seed.</summary>
public sealed record TrainerOptions
{
    /// <summary>The most threads a trainer may use.</summary>
    public const int MaxThreads = 256;

    /// <summary>
    /// Threads a step runs on (default 1). Each takes a contiguous slice of the batch; the parameter gradients of the
    /// threads are summed in a fixed order (thread 0, 1, ...), so the same thread count gives the same bits on every run.
    /// The threads are created once, on the first step, and parked between steps.
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>Forces a vector width (tests use it to check every path on one machine). Default: the best the CPU has.</summary>
    public VectorWidth VectorWidth { get; init; }

    /// <summary>
    /// Cross-entropy's label smoothing <c>s</c> in [0, 1] (PyTorch's <c>label_smoothing</c>): the target of an image is
    /// <c>(1 - s) * onehot(label) + s / classes</c>. Default 0.
    /// </summary>
    public double LabelSmoothing { get; init; }

    /// <summary>
    /// When set, <c>Step</c> clips the gradients by their global L2 norm before the optimizer
    /// (<see cref="GradientClipping.ClipByNorm"/>, PyTorch's <c>clip_grad_norm_</c>). Default: no clipping.
    /// </summary>
    public double? MaxGradientNorm { get; init; }

    /// <summary>
    /// The seed of the dropout masks of a trainer made by <c>Load</c> (<c>Create(seed)</c> uses its own seed for both the
    /// initial weights and the masks). A mask is a pure function of (seed, layer, step, element), so a resumed run draws
    /// the masks an uninterrupted one would.
    /// </summary>
    public ulong Seed { get; init; }

    /// <summary>The options used when none are given.</summary>
    public static TrainerOptions Default { get; } = new();

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range.</exception>
    internal void Validate()
    {
        if (Threads < 1 || Threads > MaxThreads)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, $"Threads must be between 1 and {MaxThreads}.");
        }

        if (!(LabelSmoothing >= 0 && LabelSmoothing <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(LabelSmoothing), LabelSmoothing, "LabelSmoothing must be in [0, 1].");
        }

        if (MaxGradientNorm is double norm && !(norm >= 0 && double.IsFinite(norm)))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxGradientNorm), norm, "MaxGradientNorm must be finite and non-negative.");
        }

        if (VectorWidth is not (VectorWidth.Auto or VectorWidth.V128 or VectorWidth.V256 or VectorWidth.V512))
        {
            throw new ArgumentOutOfRangeException(nameof(VectorWidth), VectorWidth, "not a vector width.");
        }
    }
}

/// <summary>What one training step (or <c>ComputeGradients</c>) measured on its batch, in training mode.</summary>
/// <param name="Loss">The mean loss over the batch (cross-entropy on the logits, or the mean squared error).</param>
/// <param name="Correct">Images whose largest logit is their label (0 for the mean squared error).</param>
/// <param name="BatchSize">Images in the batch.</param>
public readonly record struct StepResult(double Loss, int Correct, int BatchSize)
{
    /// <summary>The fraction of the batch classified correctly.</summary>
    public double Accuracy => BatchSize == 0 ? 0 : (double)Correct / BatchSize;
}

/// <summary>What an evaluation (eval mode: running batch-norm statistics, no dropout) measured.</summary>
/// <param name="Loss">The mean cross-entropy over the images.</param>
/// <param name="Correct">Images whose largest logit is their label.</param>
/// <param name="Count">Images evaluated.</param>
public readonly record struct Evaluation(double Loss, int Correct, int Count)
{
    /// <summary>The fraction classified correctly.</summary>
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;
}
