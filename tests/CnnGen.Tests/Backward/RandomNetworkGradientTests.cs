using System.Collections.Generic;
using System.Linq;
using CnnGen.Tests.Generator;
using static CnnGen.Tests.Backward.FiniteDifferences;

namespace CnnGen.Tests.Backward;

/// <summary>
/// The random topologies of the property tests (<see cref="RandomNetwork"/>, graphs with residual adds, concatenations,
/// depthwise and grouped convolutions, batch norm, every pooling and activation) run through the test's reference executor:
/// its float forward pass equals the one the generated code is checked against, and in double its backward pass (the
/// chain rule over the reference layers) matches central finite differences for the input and every parameter, in
/// training mode (batch statistics) and inference mode.
/// </summary>
[TestFixture]
public sealed class RandomNetworkGradientTests
{
    private const int FirstSeed = 7000;
    private const int Count = 24;
    private const int Batch = 2;

    public static IEnumerable<TestCaseData> Seeds() =>
        Enumerable.Range(FirstSeed, Count).Select(seed => new TestCaseData(seed).SetArgDisplayNames("Random" + seed));

    [TestCaseSource(nameof(Seeds))]
    public void ExecutorForwardEqualsTheRandomNetworkForward(int seed)
    {
        var net = RandomNetwork.Create(seed, graphs: true);
        ReferenceNetwork<float> reference = net.CreateReferenceNetwork<float>();
        float[] input = net.RandomInput(1);
        Assert.That(reference.Forward(input, 1, training: false), Is.EqualTo(net.Forward(input)), net.Declaration);
    }

    [TestCaseSource(nameof(Seeds))]
    public void BackwardMatchesFiniteDifferences(int seed)
    {
        var net = RandomNetwork.Create(seed, graphs: true);
        foreach (bool training in new[] { true, false })
        {
            ReferenceNetwork<double> reference = net.CreateReferenceNetwork<double>();
            double[] x = ReferenceNetwork<double>.From(net.RandomInput(1).Concat(net.RandomInput(2)));
            var inputs = new[] { new Input("input", x) }.Concat(reference.Parameters.Select(p => new Input(p.Name, p.Value))).ToArray();
            CheckDirections(
                $"{(training ? "training" : "inference")} mode, {reference}\n{net.Declaration}",
                inputs,
                () => reference.Forward(x, Batch, training),
                g =>
                {
                    reference.ZeroGrad();
                    double[] dx = reference.Backward(g);
                    return new[] { dx }.Concat(reference.Parameters.Select(p => p.Grad)).ToArray();
                },
                seed);
        }
    }
}
