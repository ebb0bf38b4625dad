using System.Collections.Generic;
using System.Linq;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Tests.Runtime;
using CnnGen.Training;
using TrainingParameter = CnnGen.Training.Parameter;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// The generated backward of Multiply (a map times its per-channel scale, with a fused ReLU) and of an adaptive average pool
/// with overlapping windows, trained: <see cref="TrainingNetworks.SqueezeExcitationNet"/> from PyTorch's default
/// initialisation, three steps of SGD with momentum and of Adam through <see cref="NetworkTrainer.Step(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Optimizer)"/>,
/// against the reference executor (<see cref="ReferenceNetwork{T}"/>, the layers' plain definitions) driving the same
/// optimizer over its own arrays: before each step the loss and every parameter gradient, after it every weight, within
/// 1e-4 (abs + rel), on every vector width and on two threads.
/// </summary>
[TestFixture]
public sealed class SqueezeExcitationTrainingTests
{
    private const double Tolerance = 1e-4;
    private const int Batch = 4;
    private const int Steps = 3;
    private const int Classes = 5;

    public static IEnumerable<TestCaseData> Cases() =>
        from w in GeneratorHarness.Widths
        from o in new[] { "sgd", "adam" }
        from threads in w == VectorWidth.V256 ? new[] { 1, 2 } : new[] { 1 }
        select new TestCaseData(w, o, threads).SetArgDisplayNames(w.ToString(), o, threads == 1 ? "1 thread" : "2 threads");

    [TestCaseSource(nameof(Cases))]
    public void Trains_as_the_reference(VectorWidth width, string optimizer, int threads)
    {
        using NetworkTrainer trainer = TrainingNetworks.Create("SqueezeExcitationNet", seed: 11, new TrainerOptions { VectorWidth = width, Threads = threads });
        ReferenceNetwork<float> reference = Reference();
        reference.Load(trainer.ToTensorSet());
        List<TrainingParameter> referenceParameters = reference.Parameters.Select(p => new TrainingParameter(p.Name, p.Shape, p.Value, p.Grad)).ToList();
        Assert.That(trainer.Parameters.Select(p => p.Name), Is.EqualTo(referenceParameters.Select(p => p.Name)), "parameters in state_dict order");
        Optimizer generated = Create(optimizer, trainer.Parameters), expected = Create(optimizer, referenceParameters);

        for (int step = 0; step < Steps; step++)
        {
            string context = $"{width} {optimizer} {threads} thread(s), step {step + 1}";
            float[] input = TrainingNetworks.Random(Batch * trainer.InputSize, seed: 40 + step, scale: 2f);
            int[] labels = Enumerable.Range(0, Batch).Select(i => ((7 * i) + step) % Classes).ToArray();

            TrainingNetworks.AssertStepMatches(trainer, generated, reference, expected, input, labels, Batch, Tolerance, context);
            expected.Step();
            TensorSet weights = trainer.ToTensorSet();
            foreach (Parameter<float> r in reference.Parameters)
            {
                ConformanceCase.AssertClose(r.Value, weights.Get(r.Name).Data, Tolerance, Tolerance, $"{context}: {r.Name} after the step");
            }
        }
    }

    /// <summary>The network as the reference executor declares it (<see cref="TrainingNetworks.SqueezeExcitationNet"/>).</summary>
    private static ReferenceNetwork<float> Reference() => ReferenceNetwork<float>.Create(new Shape(3, 10, 10), b => b
        .Conv2D("conv", 6, 3, padding: 1)
        .GlobalAvgPool2D("squeeze")
        .Conv2D("reduce", 3, 1, activation: Activation.SiLU)
        .Conv2D("expand", 6, 1, activation: Activation.Sigmoid)
        .Multiply("conv", "expand", "excite", Activation.Relu)
        .AdaptiveAvgPool2D(3, 3, "pool")
        .Flatten()
        .Dense("fc", Classes));

    private static Optimizer Create(string optimizer, IEnumerable<TrainingParameter> parameters) => optimizer switch
    {
        "sgd" => new Sgd(parameters, new SgdOptions { LearningRate = 0.1, Momentum = 0.9 }),
        _ => new Adam(parameters, new AdamOptions { LearningRate = 0.01 }),
    };
}
