using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// When a pool's backward may overwrite its input's gradient instead of clearing it and adding
/// (<see cref="TrainingNetworks.PoolGradientNet"/>): a 2x2 max pool tiling its input, but after a strided convolution's
/// scatter into the same gradient (it must add), and a 2x2 average pool of a 7x7 map, whose windows miss the last row and
/// column (cleared, then added). Two steps of SGD from PyTorch's initialisation against the reference executor: the
/// loss and every parameter gradient within 1e-4, on every width and on one and two threads (the gradient slots are
/// reused, so a missed clear shows as stale values).
/// </summary>
[TestFixture]
public sealed class PoolGradientTests
{
    private const double Tolerance = 1e-4;
    private const int Batch = 3;
    private const int Classes = 5;

    [TestCaseSource(typeof(TrainingNetworks), nameof(TrainingNetworks.WidthsAndThreads))]
    public void Gradients_match_the_reference(VectorWidth width, int threads)
    {
        using NetworkTrainer trainer = TrainingNetworks.Create("PoolGradientNet", seed: 5, new TrainerOptions { VectorWidth = width, Threads = threads });
        ReferenceNetwork<float> reference = ReferenceNetwork<float>.Create(new Shape(3, 8, 8), b => b
            .Conv2D("a", 6, 3, padding: 1, activation: Activation.Relu)
            .MaxPool2D(2, "p")
            .Conv2D("b", 6, 2, stride: 2, from: "a")
            .Add("p", "b", "sum")
            .Conv2D("c", 5, 2, padding: 2, activation: Activation.Relu)
            .AvgPool2D((2, 2), (2, 2), (0, 0), ceilMode: false, countIncludePad: true, "q")
            .Flatten()
            .Dense("fc", Classes));
        TrainingNetworks.AssertSgdStepsMatch(trainer, reference, steps: 2, Batch, Classes, inputSeed: 70, labelStride: 3, Tolerance, $"{width}, {threads} thread(s)");
    }
}
