using System;
using System.Collections.Generic;

namespace CnnGen.Training;

/// <summary>Gradient clipping by global norm, as PyTorch 1.13's <c>torch.nn.utils.clip_grad_norm_</c> (L2).</summary>
public static class GradientClipping
{
    /// <summary>PyTorch's guard against dividing by a zero norm.</summary>
    public const float Epsilon = 1e-6f;

    /// <summary>
    /// Computes the L2 norm of all gradients together (as if concatenated) and, when it exceeds
    /// <paramref name="maxNorm"/>, scales every gradient by <c>max_norm / (total + 1e-6)</c>. The sum of squares
    /// is accumulated in double in a fixed order (the same bits on every machine); the coefficient is then
    /// computed in float32 as PyTorch does (<c>clamp(max_norm * reciprocal(total + 1e-6), max=1)</c>).
    /// Padded lanes (zero gradients) contribute nothing and stay zero. Allocates nothing.
    /// </summary>
    /// <param name="parameters">The parameters whose <see cref="Parameter.Gradient"/> are clipped in place.</param>
    /// <param name="maxNorm">The largest total norm allowed (finite, non-negative).</param>
    /// <param name="step">The step number to name in an error (0 when unknown).</param>
    /// <returns>The total norm before clipping, rounded to float as PyTorch returns it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is negative or not finite.</exception>
    /// <exception cref="NonFiniteGradientException">A gradient holds NaN or infinity; no gradient was changed.</exception>
    public static float ClipByNorm(IReadOnlyList<Parameter> parameters, double maxNorm, long step = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!double.IsFinite(maxNorm) || maxNorm < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The maximum norm must be finite and non-negative.");
        }

        float total = TotalNorm(parameters, step);
        float coefficient = (1f / (total + Epsilon)) * (float)maxNorm;
        if (coefficient < 1f)
        {
            for (int p = 0; p < parameters.Count; p++)
            {
                TrainingMath.Scale(parameters[p].Gradient, coefficient);
            }
        }

        return total;
    }

    /// <summary>
    /// The L2 norm of all gradients together, without changing them (sum of squares in double, in a fixed
    /// order; the square root rounded to float).
    /// </summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="step">The step number to name in an error (0 when unknown).</param>
    /// <returns>The norm.</returns>
    /// <exception cref="NonFiniteGradientException">A gradient holds NaN or infinity.</exception>
    public static float TotalNorm(IReadOnlyList<Parameter> parameters, long step = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        double sum = 0;
        for (int p = 0; p < parameters.Count; p++)
        {
            Parameter parameter = parameters[p];
            double squares = TrainingMath.SumOfSquares(parameter.Gradient);
            if (!double.IsFinite(squares))
            {
                // The squares of finite floats cannot overflow a double: some element is NaN or infinite.
                throw parameter.NonFiniteGradient(step);
            }

            sum += squares;
        }

        return (float)Math.Sqrt(sum);
    }
}
