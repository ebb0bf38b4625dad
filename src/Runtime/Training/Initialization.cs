using System;
using System.Collections.Generic;

namespace CnnGen.Training;

/// <summary>
/// PyTorch's default initialisation of layers, drawn from a <see cref="CounterRandom"/> keyed by a seed and the
/// tensor's <c>state_dict</c> name: element <c>i</c> of the dense PyTorch tensor gets the <c>i</c>-th number of
/// that stream, so the same seed gives the same weights on every machine, for every vector width and layout
/// and any thread count. The distributions are PyTorch's; the bits are not (PyTorch draws from its own
/// Mersenne Twister in module-construction order).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Convolution and linear weights: <c>kaiming_uniform_(a = sqrt(5))</c>, i.e. uniform in
/// <c>(-b, b)</c> with <c>b = sqrt(3) * sqrt(2 / (1 + 5)) / sqrt(fan_in) = 1 / sqrt(fan_in)</c>.</item>
/// <item>Their biases: uniform in <c>(-1 / sqrt(fan_in), 1 / sqrt(fan_in))</c>, <c>fan_in</c> of the weight.</item>
/// <item>Batch norm: weight 1, bias 0, running mean 0, running variance 1.</item>
/// </list>
/// <c>fan_in</c> is <c>shape[1] * (product of shape[2..])</c> of the weight (input channels per group times the
/// kernel area for a convolution, input features for a linear layer).
/// </remarks>
public static class Initialization
{
    /// <summary>PyTorch's <c>fan_in</c> of a weight shape (<c>torch.nn.init._calculate_fan_in_and_fan_out</c>).</summary>
    /// <param name="shape">The weight's shape, at least two dimensions.</param>
    /// <returns>The fan-in.</returns>
    /// <exception cref="ArgumentException">The shape has fewer than two dimensions.</exception>
    public static int FanIn(IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Count < 2)
        {
            throw new ArgumentException($"Fan in can not be computed for a tensor with fewer than 2 dimensions (this one has {shape.Count}).", nameof(shape));
        }

        int fanIn = shape[1];
        for (int d = 2; d < shape.Count; d++)
        {
            fanIn = checked(fanIn * shape[d]);
        }

        return fanIn;
    }

    /// <summary>The bound of <c>kaiming_uniform_(a = sqrt(5))</c>, computed as PyTorch does (<c>sqrt(3) * gain / sqrt(fan_in)</c>).</summary>
    /// <param name="fanIn">The fan-in, positive.</param>
    /// <returns>The bound, about <c>1 / sqrt(fan_in)</c>.</returns>
    public static double KaimingUniformBound(int fanIn)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanIn);
        double a = Math.Sqrt(5.0);
        double gain = Math.Sqrt(2.0 / (1 + (a * a)));
        double std = gain / Math.Sqrt(fanIn);
        return Math.Sqrt(3.0) * std;
    }

    /// <summary>The bound of a layer's default bias initialisation: <c>1 / sqrt(fan_in)</c>, or 0 when <c>fan_in</c> is 0.</summary>
    /// <param name="fanIn">The fan-in of the layer's weight.</param>
    /// <returns>The bound.</returns>
    public static double BiasBound(int fanIn)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fanIn);
        return fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
    }

    /// <summary>Initialises a convolution or linear weight with <c>kaiming_uniform_(a = sqrt(5))</c>.</summary>
    /// <param name="weight">The weight; its <see cref="Parameter.Shape"/> gives the fan-in.</param>
    /// <param name="seed">The seed.</param>
    public static void KaimingUniform(Parameter weight, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(weight);
        double bound = KaimingUniformBound(FanIn(weight.Shape));
        Uniform(weight, -bound, bound, seed);
    }

    /// <summary>Initialises a convolution or linear bias uniformly in <c>(-1/sqrt(fan_in), 1/sqrt(fan_in))</c>.</summary>
    /// <param name="bias">The bias.</param>
    /// <param name="fanIn">The fan-in of the layer's weight (<see cref="FanIn"/>).</param>
    /// <param name="seed">The seed.</param>
    public static void Bias(Parameter bias, int fanIn, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(bias);
        double bound = BiasBound(fanIn);
        Uniform(bias, -bound, bound, seed);
    }

    /// <summary>Fills a parameter (dense index order, then packed) uniformly in [low, high] from the stream named after it.</summary>
    /// <param name="parameter">The parameter; its gradient is cleared.</param>
    /// <param name="low">The lower bound.</param>
    /// <param name="high">The upper bound.</param>
    /// <param name="seed">The seed.</param>
    public static void Uniform(Parameter parameter, double low, double high, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        var dense = new float[parameter.ElementCount];
        new CounterRandom(seed, parameter.Name).FillUniform(dense, low, high);
        Set(parameter, dense);
    }

    /// <summary>Sets every element of a parameter to <paramref name="value"/> (padded lanes stay zero), e.g. batch norm weight 1, bias 0.</summary>
    /// <param name="parameter">The parameter; its gradient is cleared.</param>
    /// <param name="value">The value.</param>
    public static void Constant(Parameter parameter, float value)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        var dense = new float[parameter.ElementCount];
        dense.AsSpan().Fill(value);
        Set(parameter, dense);
    }

    /// <summary>
    /// Initialises a whole network's parameters the PyTorch way from their names and shapes: a <c>.weight</c>
    /// with two or more dimensions (convolution, linear) gets <see cref="KaimingUniform"/>; a <c>.bias</c> whose
    /// sibling <c>.weight</c> has two or more dimensions gets <see cref="Bias"/> with that weight's fan-in; a
    /// one-dimensional <c>.weight</c> (batch norm) gets 1 and its <c>.bias</c> 0. Batch norm running statistics
    /// are buffers, not parameters: set them to mean 0 and variance 1 yourself.
    /// </summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="seed">The seed.</param>
    /// <exception cref="ArgumentException">A name does not end in <c>.weight</c> or <c>.bias</c>, or a bias has no weight.</exception>
    public static void PyTorchDefault(IReadOnlyList<Parameter> parameters, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var weights = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        foreach (Parameter parameter in parameters)
        {
            if (parameter.Name.EndsWith(".weight", StringComparison.Ordinal))
            {
                weights[parameter.Name[..^".weight".Length]] = parameter;
            }
            else if (!parameter.Name.EndsWith(".bias", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Parameter '{parameter.Name}' is neither a .weight nor a .bias; initialise it explicitly.", nameof(parameters));
            }
        }

        foreach (Parameter parameter in parameters)
        {
            if (parameter.Name.EndsWith(".weight", StringComparison.Ordinal))
            {
                if (parameter.Shape.Count >= 2)
                {
                    KaimingUniform(parameter, seed);
                }
                else
                {
                    Constant(parameter, 1f);
                }

                continue;
            }

            if (!weights.TryGetValue(parameter.Name[..^".bias".Length], out Parameter? weight))
            {
                throw new ArgumentException($"Bias '{parameter.Name}' has no matching .weight parameter to take the fan-in from.", nameof(parameters));
            }

            if (weight.Shape.Count >= 2)
            {
                Bias(parameter, FanIn(weight.Shape), seed);
            }
            else
            {
                Constant(parameter, 0f);
            }
        }
    }

    private static void Set(Parameter parameter, float[] dense)
    {
        parameter.FromPyTorch(dense, parameter.Value);
        parameter.Gradient.Clear();
    }
}
