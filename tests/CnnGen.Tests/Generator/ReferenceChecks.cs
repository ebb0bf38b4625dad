using System;
using System.Linq;
using System.Reflection;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Generator;

/// <summary>A generated network against the reference executor at every vector width: the check several planner tests share.</summary>
internal static class ReferenceChecks
{
    /// <summary>Weights uniform in [-0.5, 0.5) for every parameter of <paramref name="reference"/>, loaded into it too.</summary>
    public static TensorSet RandomWeights(ReferenceNetwork<double> reference, Random random)
    {
        var weights = new TensorSet(reference.Parameters.Select(p => new Tensor(p.Name, p.Shape,
            Enumerable.Range(0, p.Value.Length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray())));
        reference.Load(weights);
        return weights;
    }

    /// <summary>
    /// <paramref name="batch"/> images uniform in [-<paramref name="scale"/>, <paramref name="scale"/>) through the generated
    /// <paramref name="type"/> at every width, <c>PredictBatch</c> and (with <paramref name="predictOne"/>) <c>Predict</c> of the
    /// first image, within 1e-5 of the reference's output.
    /// </summary>
    public static void AssertEveryWidth(Assembly assembly, string type, ReferenceNetwork<double> reference, TensorSet weights,
        Random random, int batch, double scale, bool predictOne = false)
    {
        var input = Enumerable.Range(0, batch * reference.Input.Size).Select(_ => (float)((random.NextDouble() * 2 * scale) - scale)).ToArray();
        var expected = reference.Forward(input.Select(v => (double)v).ToArray(), batch, training: false).Select(v => (float)v).ToArray();
        foreach (var width in GeneratorHarness.Widths)
        {
            var net = GeneratorHarness.Load(assembly, type, weights, new LoadOptions { VectorWidth = width });
            var actual = new float[batch * net.OutputSize];
            net.PredictBatch(input, actual, batch);
            ConformanceCase.AssertClose(expected, actual, 1e-5, 1e-5, $"{type} {width} (batch)");
            if (predictOne)
            {
                var one = new float[net.OutputSize];
                net.Predict(input.AsSpan(0, net.InputSize), one);
                ConformanceCase.AssertClose(expected.AsSpan(0, net.OutputSize).ToArray(), one, 1e-5, 1e-5, $"{type} {width}");
            }
        }
    }
}
