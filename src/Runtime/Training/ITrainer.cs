using System;
using System.Collections.Generic;
using System.IO;

namespace CnnGen.Training;

/// <summary>
/// What every generated trainer offers (<c>MyNetwork.Trainer</c>, a <see cref="NetworkTrainer"/>); lets tools (samples,
/// benchmarks) treat trainers alike.
/// </summary>
public interface ITrainer : IDisposable
{
    /// <summary>The trainable tensors, in PyTorch's <c>state_dict</c> order.</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Floats in one input image (NCHW).</summary>
    int InputSize { get; }

    /// <summary>Floats in one output.</summary>
    int OutputSize { get; }

    /// <summary>Training passes completed (steps and gradient computations); dropout masks are drawn per pass.</summary>
    long StepCount { get; }

    /// <summary>One training step: forward in training mode, cross-entropy, backward, then <paramref name="optimizer"/>.</summary>
    StepResult Step(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize, Optimizer optimizer);

    /// <summary>The loss and accuracy in evaluation mode.</summary>
    Evaluation Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count);

    /// <summary>The weights and running statistics with PyTorch's names and layouts.</summary>
    TensorSet ToTensorSet();

    /// <summary>Writes <see cref="ToTensorSet"/> as safetensors.</summary>
    void Save(Stream stream);
}
