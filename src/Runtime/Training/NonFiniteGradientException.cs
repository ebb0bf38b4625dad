using System;
using System.Globalization;

namespace CnnGen.Training;

/// <summary>
/// Thrown when a training step meets a NaN or an infinity in a gradient (typically a learning rate that is
/// too high). It is thrown before anything changes: the parameter values, the gradients and every optimizer
/// buffer are exactly as they were, and the optimizer's step count does not advance.
/// </summary>
public class NonFiniteGradientException : ArithmeticException
{
    /// <summary>Creates an exception with a generic message.</summary>
    public NonFiniteGradientException()
        : base("A gradient is NaN or infinite.")
    {
        TensorName = string.Empty;
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What is wrong.</param>
    public NonFiniteGradientException(string message)
        : base(message)
    {
        TensorName = string.Empty;
    }

    /// <summary>Creates an exception with the given message and the exception that caused it.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public NonFiniteGradientException(string message, Exception? innerException)
        : base(message, innerException)
    {
        TensorName = string.Empty;
    }

    /// <summary>Creates an exception naming the tensor, the step and the first bad element.</summary>
    /// <param name="tensorName">The parameter (PyTorch <c>state_dict</c> name) or layer whose gradient is not finite.</param>
    /// <param name="step">The 1-based number of the step that was refused (the optimizer's step count plus one).</param>
    /// <param name="index">The index of the first bad element in the tensor's buffer.</param>
    /// <param name="value">That element (NaN, +infinity or -infinity).</param>
    public NonFiniteGradientException(string tensorName, long step, int index, float value)
        : base(string.Format(
            CultureInfo.InvariantCulture,
            "step {0}: the gradient of '{1}' is not finite ({2} at element {3}); nothing was changed. A learning rate that is too high is the usual cause.",
            step,
            tensorName,
            value,
            index))
    {
        TensorName = tensorName;
        Step = step;
        Index = index;
        Value = value;
    }

    /// <summary>Creates an exception with a message, naming the tensor, the step and the first bad element (for derived exceptions).</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="tensorName">The parameter or layer whose gradient is not finite.</param>
    /// <param name="step">The 1-based number of the refused step.</param>
    /// <param name="index">The index of the first bad element, or -1.</param>
    /// <param name="value">That element.</param>
    protected NonFiniteGradientException(string message, string tensorName, long step, int index, float value)
        : base(message)
    {
        TensorName = tensorName;
        Step = step;
        Index = index;
        Value = value;
    }

    /// <summary>The parameter or layer whose gradient is not finite; empty when unknown.</summary>
    public string TensorName { get; }

    /// <summary>The 1-based number of the refused step; 0 when unknown.</summary>
    public long Step { get; }

    /// <summary>The index of the first non-finite element in the gradient buffer; -1 when unknown.</summary>
    public int Index { get; } = -1;

    /// <summary>The first non-finite element (NaN or an infinity); NaN when unknown.</summary>
    public float Value { get; } = float.NaN;
}
