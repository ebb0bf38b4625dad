using System;

namespace CnnGen;

/// <summary>
/// The exception thrown for every malformed weights file and for every mismatch between a weights
/// file and the network that loads it (missing tensor, wrong shape, wrong dtype...).
/// </summary>
public class WeightsException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public WeightsException()
        : base("The weights are invalid.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What is wrong with the weights.</param>
    public WeightsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and the exception that caused it.</summary>
    /// <param name="message">What is wrong with the weights.</param>
    /// <param name="innerException">The underlying error.</param>
    public WeightsException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception about one named tensor.</summary>
    /// <param name="message">What is wrong with the weights.</param>
    /// <param name="tensorName">The tensor concerned, or <see langword="null"/>.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public WeightsException(string message, string? tensorName, Exception? innerException = null)
        : base(message, innerException)
    {
        TensorName = tensorName;
    }

    /// <summary>The name of the tensor the error is about, when there is one.</summary>
    public string? TensorName { get; }
}
