using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// The generated backward pass against the reference executor (<see cref="ReferenceNetwork{T}"/> in double, whose backward
/// is checked against finite differences in <see cref="RandomNetworkGradientTests"/>) on the property tests' random
/// topologies (<see cref="RandomNetwork"/>: graphs with residual adds, concatenations, depthwise and grouped convolutions,
/// batch norm in training mode, every pooling and activation, squeeze-and-excitation products, adaptive pools), on every vector width: the training-mode output, the
/// input gradient and every parameter gradient for a random output gradient.
/// </summary>
/// <remarks>12 networks chosen from the seeds from 9364 to reach every layer kind and option below (checked), in about a minute of compilation.</remarks>
[TestFixture]
public sealed class GeneratedRandomNetworkTests
{
    private const int FirstSeed = 9364;
    private const int Count = 12;
    private const int Batch = 2;

    private static readonly Lazy<(RandomNetwork[] Nets, Assembly Assembly)> Compiled = new(() =>
    {
        RandomNetwork[] nets = Cover(Enumerable.Range(FirstSeed, 200).Select(s => RandomNetwork.Create(s, graphs: true)).ToList());
        string source = "using CnnGen;\nnamespace RandomTraining;\n" + string.Join("\n", nets.Select(Trainable));
        return (nets, GeneratorHarness.CompileAndLoad(source));
    });

    public static IEnumerable<TestCaseData> Widths() => GeneratorHarness.Widths.Select(w => new TestCaseData(w).SetArgDisplayNames(w.ToString()));

    internal static string Trainable(RandomNetwork net) => net.Declaration.Replace("[Network,", "[Network(Trainable = true),", StringComparison.Ordinal);

    [TestCaseSource(nameof(Widths))]
    public void Generated_backward_matches_the_reference(VectorWidth width)
    {
        (RandomNetwork[] nets, Assembly assembly) = Compiled.Value;
        foreach (RandomNetwork net in nets)
        {
            ReferenceNetwork<double> reference = net.CreateReferenceNetwork<double>();
            using NetworkTrainer trainer = Load(assembly, net, width);
            float[] input = net.RandomInput(1).Concat(net.RandomInput(2)).ToArray();
            string context = $"{width}\n{net.Declaration}";
            double[] expected = reference.Forward(ReferenceNetwork<double>.From(input), Batch, training: true);
            var output = new float[Batch * trainer.OutputSize];
            trainer.Forward(input, Batch, output, training: true);
            Close(expected, output, context + "output");

            var random = new Random(net.InputSize);
            float[] outputGradient = Enumerable.Range(0, output.Length).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
            double[] dx = reference.Backward(ReferenceNetwork<double>.From(outputGradient));
            var inputGradient = new float[input.Length];
            trainer.Backward(outputGradient, inputGradient);
            Close(dx, inputGradient, context + "d input");
            Assert.That(trainer.Parameters.Select(p => p.Name), Is.EquivalentTo(reference.Parameters.Select(p => p.Name)), context);
            foreach (Parameter p in trainer.Parameters)
            {
                Close(reference.Parameters.Single(r => r.Name == p.Name).Grad, p.ToTensor(p.Name, p.Gradient).Data, $"{context}d {p.Name}");
            }
        }
    }

    [Test]
    public void The_random_set_reaches_every_backward_kernel()
    {
        var reached = new HashSet<string>(Compiled.Value.Nets.SelectMany(Reaches), StringComparer.Ordinal);
        foreach (string kind in Kinds.Concat(Cases.Select(c => c.Name)))
        {
            Assert.That(reached, Does.Contain(kind), kind);
        }
    }

    /// <summary>What the random set must reach, as the declarations spell it: every layer kind and option with a backward kernel of its own.</summary>
    private static readonly string[] Kinds =
    {
        "Conv2D(", "MaxPool2D(", "AvgPool2D(", "BatchNorm2D(", "Add(", "Concat(", "Dense(", "Softmax", "ReLU6", "SiLU", "Sigmoid", "Tanh", "LeakyReLU(",
        "Groups = 2", "Groups = 3", "GlobalAvgPool2D", "GlobalMaxPool2D", "CeilMode = true", "CountIncludePad = false", "DilationHeight = 2", "Activation.SiLU", "Activation.LeakyRelu",
        "Multiply(", "AdaptiveAvgPool2D(",
    };

    /// <summary>
    /// What the random set must reach that a declaration does not spell, found in the reference network's layers: an
    /// adaptive pool planned as one (not a view or a global pool) with overlapping windows, and each form of Multiply (each
    /// its own backward kernels).
    /// </summary>
    private static readonly (string Name, Func<Layer<double>, bool> Is)[] Cases =
    {
        ("an adaptive pool with overlapping windows", l => l is AdaptiveAvgPool2DLayer<double> && l.Output.H * l.Output.W > 1
            && (l.InputShapes[0].H % l.Output.H != 0 || l.InputShapes[0].W % l.Output.W != 0)),
        ("a Multiply of equal shapes", l => l is MultiplyLayer<double> && l.InputShapes[0] == l.InputShapes[1]),
        ("a Multiply of a map by a per-channel scale", l => l is MultiplyLayer<double> && l.InputShapes[0].H * l.InputShapes[0].W > 1 && l.InputShapes[1].H * l.InputShapes[1].W == 1),
        ("a Multiply of a per-channel scale by a map", l => l is MultiplyLayer<double> && l.InputShapes[0].H * l.InputShapes[0].W == 1 && l.InputShapes[1].H * l.InputShapes[1].W > 1),
    };

    /// <summary>The <see cref="Kinds"/> and <see cref="Cases"/> a network reaches.</summary>
    private static IEnumerable<string> Reaches(RandomNetwork net)
    {
        IReadOnlyList<Layer<double>> layers = net.CreateReferenceNetwork<double>().Layers;
        return Kinds.Where(k => net.Declaration.Contains(k, StringComparison.Ordinal))
            .Concat(Cases.Where(c => layers.Any(c.Is)).Select(c => c.Name));
    }

    /// <summary>
    /// <see cref="Count"/> networks that reach every one of <see cref="Kinds"/> and <see cref="Cases"/>: greedily the
    /// candidate reaching the most not yet reached, then the first candidates left (deterministic: the candidates come
    /// from fixed seeds).
    /// </summary>
    private static RandomNetwork[] Cover(List<RandomNetwork> candidates)
    {
        var reaches = candidates.ToDictionary(n => n, n => Reaches(n).ToList());
        var chosen = new List<RandomNetwork>();
        var missing = new HashSet<string>(Kinds.Concat(Cases.Select(c => c.Name)), StringComparer.Ordinal);
        while (missing.Count > 0 && chosen.Count < Count)
        {
            var best = candidates.OrderByDescending(n => reaches[n].Count(missing.Contains)).First();
            if (!reaches[best].Any(missing.Contains))
            {
                break; // nothing left reaches a missing kind: the coverage test says which
            }

            chosen.Add(best);
            candidates.Remove(best);
            missing.ExceptWith(reaches[best]);
        }

        chosen.AddRange(candidates.Take(Count - chosen.Count));
        return chosen.ToArray();
    }

    internal static NetworkTrainer Load(Assembly assembly, RandomNetwork net, VectorWidth width, int threads = 1)
    {
        Type type = assembly.GetType("RandomTraining." + net.ClassName + "+Trainer", throwOnError: true)!;
        MethodInfo load = type.GetMethod("Load", new[] { typeof(TensorSet), typeof(TrainerOptions) })!;
        try
        {
            return (NetworkTrainer)load.Invoke(null, new object?[] { net.Weights, new TrainerOptions { VectorWidth = width, Threads = threads } })!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw ex.InnerException;
        }
    }

    /// <summary>Float against the double reference: within 1e-4 of the larger of 1 and the tensor's largest magnitude, plus 1e-4 relative.</summary>
    private static void Close(IReadOnlyList<double> expected, ReadOnlySpan<float> actual, string context)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Count), context);
        double scale = Math.Max(1, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Count; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= (1e-4 * scale) + (1e-4 * Math.Abs(expected[i]))))
            {
                Assert.Fail($"{context}[{i}]: {actual[i]:R} vs reference {expected[i]:R} (|error| {error:G3}, scale {scale:G3})");
            }
        }
    }
}
