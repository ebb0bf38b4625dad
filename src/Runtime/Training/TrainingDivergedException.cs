using System;
using System.Globalization;

namespace CnnGen.Training;

/// <summary>
/// Thrown by a trainer's step when the loss or a parameter gradient is not finite (typically a learning rate that is too
/// high): it names the step and the layer. It is thrown before anything changes: the weights, the batch-norm running
/// statistics, the optimizer's state and the trainer's step count are exactly as they were.
/// </summary>
public sealed class TrainingDivergedException : NonFiniteGradientException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public TrainingDivergedException()
        : this("Training diverged: the loss or a gradient is NaN or infinite.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What is wrong.</param>
    public TrainingDivergedException(string message)
        : base(message)
    {
        Layer = string.Empty;
    }

    /// <summary>Creates an exception with the given message and the exception that caused it.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public TrainingDivergedException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Layer = string.Empty;
    }

    /// <summary>Creates an exception for a non-finite gradient, naming the step, the layer and the parameter.</summary>
    /// <param name="step">The 1-based number of the refused step.</param>
    /// <param name="layer">The layer whose parameter gradient is not finite.</param>
    /// <param name="parameter">The parameter (PyTorch <c>state_dict</c> name).</param>
    /// <param name="index">The first bad element of the gradient (packed layout).</param>
    /// <param name="value">That element.</param>
    public TrainingDivergedException(long step, string layer, string parameter, int index, float value)
        : base(
            string.Format(CultureInfo.InvariantCulture, "step {0}: the gradient of layer '{1}' ({2}) is not finite ({3} at element {4}); nothing was changed. A learning rate that is too high is the usual cause.", step, layer, parameter, value, index),
            parameter,
            step,
            index,
            value)
    {
        Layer = layer;
    }

    /// <summary>Creates an exception for a non-finite loss, naming the step and the first layer whose output is not finite.</summary>
    /// <param name="step">The 1-based number of the refused step.</param>
    /// <param name="layer">The first layer whose output is not finite, or <c>loss</c> when every output is finite.</param>
    /// <param name="loss">The loss.</param>
    public TrainingDivergedException(long step, string layer, double loss)
        : base(
            string.Format(CultureInfo.InvariantCulture, "step {0}: the loss is {1}{2}; nothing was changed. A learning rate that is too high is the usual cause.", step, loss, layer == "loss" ? string.Empty : $" (the output of layer '{layer}' is the first that is not finite)"),
            layer,
            step,
            -1,
            (float)loss)
    {
        Layer = layer;
    }

    /// <summary>The layer whose gradient or output is not finite (<c>loss</c> when only the loss is).</summary>
    public string Layer { get; }
}
