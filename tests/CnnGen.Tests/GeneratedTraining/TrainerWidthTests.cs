using System.Linq;
using System.Runtime.Intrinsics;
using CnnGen.Generator.Planning;
using CnnGen.Tests.Generator;
using CnnGen.Tests.Networks;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// The width a trainer runs at when none is asked for (<see cref="TrainingWidth"/>): Vector256 where Vector512 would pad
/// more channels (LeNet-5's conv1: 6 filters in 16 lanes), the widest accelerated one where the channels fill the vectors
/// (the MLP, the ResNet); an explicit width always wins. That the kernels of every width compute PyTorch's gradients is the
/// other training tests' business (they name every width).
/// </summary>
[TestFixture]
public sealed class TrainerWidthTests
{
    private const string LeNet5 = "[Network(Trainable = true), Input(1, 28, 28)]\n[Conv2D(6, 5, Padding = 2), ReLU, MaxPool2D(2)]\n"
        + "[Conv2D(16, 5), ReLU, MaxPool2D(2), Flatten]\n[Dense(120), ReLU, Dense(84), ReLU, Dense(10)]\npublic partial class Net;";

    private const string Mlp = "[Network(Trainable = true), Input(1, 28, 28), Flatten]\n[Dense(128, Activation = Activation.Relu), Dense(64, Activation = Activation.Relu), Dense(10)]\npublic partial class Net;";

    private const string Wide = "[Network(Trainable = true), Input(3, 16, 16)]\n[Conv2D(16, 3, Padding = 1), ReLU, Conv2D(32, 3, Padding = 1), ReLU, GlobalAvgPool2D, Flatten, Dense(16)]\npublic partial class Net;";

    private static global::CnnGen.Generator.Shapes.ShapedNetwork Net(string declaration) => GeneratorHarness.Models("using CnnGen;\n" + declaration).Single().Net;

    [Test]
    public void LeNet5_pads_a_quarter_less_at_Vector256_and_the_planner_takes_it()
    {
        var net = Net(LeNet5);

        // conv1: 28 x 28 pixels x 25 taps x 6 filters = 117,600 multiply-adds, padded to 16 filters (313,600) or 8 (156,800),
        // in its forward pass and its weight gradient (no input gradient: it reads the network input).
        // conv2: 240,000 three times at both widths (16 filters; its input gradient gathered over them);
        // fc1 400 -> 120: 48,000 padded to 128 or 120 units twice, plus 48,000; fc2 120 -> 84 and fc3 84 -> 10 likewise.
        Assert.That(TrainingWidth.LaneMultiplyAdds(net, 16), Is.EqualTo(1_535_040));
        Assert.That(TrainingWidth.LaneMultiplyAdds(net, 8), Is.EqualTo(1_212_368));
        Assert.That(TrainingWidth.Auto(net), Is.EqualTo(8));
        Assert.That(TrainingPlanner.Plan(net).AutoWidth, Is.EqualTo(8));
    }

    [TestCase(Mlp, TestName = "The MLP keeps the widest width")]
    [TestCase(Wide, TestName = "Channels that fill the vectors keep the widest width")]
    public void Networks_whose_channels_fill_the_vectors_keep_the_widest_width(string declaration)
    {
        var net = Net(declaration);
        Assert.That(TrainingWidth.LaneMultiplyAdds(net, 8), Is.GreaterThan(TrainingWidth.MaxShare * TrainingWidth.LaneMultiplyAdds(net, 16)));
        Assert.That(TrainingWidth.Auto(net), Is.EqualTo(0));
        Assert.That(TrainingPlanner.Plan(net).AutoWidth, Is.EqualTo(0));
    }

    [Test]
    public void The_generated_trainer_says_which_width_it_runs_at_and_why()
    {
        var result = GeneratorHarness.Run("using CnnGen;\n" + LeNet5);
        string trainer = result.Files.Single(f => f.Key.EndsWith(".Trainer.g.cs", System.StringComparison.Ordinal)).Value;
        Assert.That(trainer, Does.Contain("of workspace per image, 1,535,040 multiply-adds per image with the channels padded to the vectors.<br/>"));
        Assert.That(trainer, Does.Contain("/// Runs at Vector256 unless <c>TrainerOptions.VectorWidth</c> asks for another"));
        Assert.That(trainer, Does.Contain("new Trainer(TrainingWidth(options), options)"));

        string mlp = GeneratorHarness.Run("using CnnGen;\n" + Mlp).Files.Single(f => f.Key.EndsWith(".Trainer.g.cs", System.StringComparison.Ordinal)).Value;
        Assert.That(mlp, Does.Not.Contain("Runs at Vector").And.Not.Contain("TrainingWidth("));
    }

    [Test]
    public void LeNet5_trains_at_Vector256_unless_asked_otherwise()
    {
        VectorWidth widest = Vector512.IsHardwareAccelerated ? VectorWidth.V512 : Vector256.IsHardwareAccelerated ? VectorWidth.V256 : VectorWidth.V128;
        VectorWidth preferred = Vector256.IsHardwareAccelerated ? VectorWidth.V256 : widest;
        using (var auto = LeNet5Logits.Trainer.Create(seed: 1))
        using (var alsoAuto = LeNet5Logits.Trainer.Create(seed: 1, new TrainerOptions { VectorWidth = VectorWidth.Auto, Threads = 2 }))
        {
            Assert.That(auto.VectorWidth, Is.EqualTo(preferred));
            Assert.That(alsoAuto.VectorWidth, Is.EqualTo(preferred));
        }

        foreach (var width in GeneratorHarness.Widths)
        {
            using var asked = LeNet5Logits.Trainer.Create(seed: 1, new TrainerOptions { VectorWidth = width });
            Assert.That(asked.VectorWidth, Is.EqualTo(width), "an explicit width wins");
        }

        using var mlp = MlpLogits.Trainer.Create(seed: 1);
        Assert.That(mlp.VectorWidth, Is.EqualTo(widest));
    }
}
