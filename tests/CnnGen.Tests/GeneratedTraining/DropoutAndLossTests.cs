using System;
using System.Linq;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Tests.Runtime;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// Dropout (mask, inverted scaling, seeds per layer and pass), the mean squared error, label smoothing, clipping and a
/// split SiLU through a generated trainer, against the reference executor in double.
/// </summary>
[TestFixture]
public sealed class DropoutAndLossTests
{
    private const int Batch = 3;

    /// <summary>The reference network of <see cref="TrainingNetworks.DropoutNet"/> with the masks the trainer draws at pass <paramref name="step"/>.</summary>
    private static ReferenceNetwork<double> Reference(NetworkTrainer trainer, long step)
    {
        uint Seed(string layer) => new CounterRandom(trainer.Seed, layer).Substream((ulong)step).DropoutSeed;
        var reference = ReferenceNetwork<double>.Create(new Shape(3, 6, 6), b => b
            .Conv2D("c1", 4, 3, padding: 1, activation: Activation.Relu).Dropout(0.25, Seed("d1"), "d1")
            .Conv2D("c2", 5, 3, activation: Activation.SiLU).BatchNorm2D("bn").Flatten().Dropout(0.5, Seed("d2"), "d2").Dense("fc", 7));
        reference.Load(new TensorSet(trainer.ToTensorSet().Where(t => !t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal))));
        return reference;
    }

    private static void Close(double[] expected, ReadOnlySpan<float> actual, string what) =>
        ConformanceCase.AssertClose(expected.Select(v => (float)v).ToArray(), actual, 1e-4, 1e-4, what);

    [TestCaseSource(typeof(GeneratedRandomNetworkTests), nameof(GeneratedRandomNetworkTests.Widths))]
    public void Dropout_masks_and_gradients_match_the_reference(VectorWidth width)
    {
        using NetworkTrainer trainer = TrainingNetworks.Create("DropoutNet", seed: 11, new TrainerOptions { VectorWidth = width });
        float[] input = TrainingNetworks.Random(Batch * trainer.InputSize, 1);
        for (long step = 0; step < 3; step++)
        {
            ReferenceNetwork<double> reference = Reference(trainer, step);
            double[] expected = reference.Forward(ReferenceNetwork<double>.From(input), Batch, training: true);
            var output = new float[Batch * trainer.OutputSize];
            trainer.Forward(input, Batch, output, training: true);
            Close(expected, output, $"{width} pass {step}: output");
            float[] outputGradient = TrainingNetworks.Random(output.Length, 2);
            double[] dx = reference.Backward(ReferenceNetwork<double>.From(outputGradient));
            var inputGradient = new float[input.Length];
            trainer.Backward(outputGradient, inputGradient);
            Close(dx, inputGradient, $"{width} pass {step}: d input");
            foreach (Parameter p in trainer.Parameters)
            {
                Close(reference.Parameters.Single(r => r.Name == p.Name).Grad, p.ToTensor(p.Name, p.Gradient).Data, $"{width} pass {step}: d {p.Name}");
            }
        }

        Assert.That(trainer.StepCount, Is.EqualTo(3), "each training forward is a pass: a new mask");
    }

    [Test]
    public void Dropout_is_the_identity_in_evaluation_and_drops_about_p_in_training()
    {
        using NetworkTrainer trainer = TrainingNetworks.Create("DropoutNet", seed: 5);
        float[] input = TrainingNetworks.Random(64 * trainer.InputSize, 3);
        var evaluation = new float[64 * trainer.OutputSize];
        trainer.Forward(input, 64, evaluation, training: false);
        double[] expected = Reference(trainer, 0).Forward(ReferenceNetwork<double>.From(input), 64, training: false);
        Close(expected, evaluation, "evaluation");

        var first = new float[evaluation.Length];
        var second = new float[evaluation.Length];
        trainer.Forward(input, 64, first, training: true);
        trainer.Forward(input, 64, second, training: true);
        Assert.That(first, Is.Not.EqualTo(second), "each pass draws a new mask");
    }

    [Test]
    public void Mean_squared_error_trains_a_map_output()
    {
        using NetworkTrainer trainer = TrainingNetworks.Create("MapNet", seed: 3);
        Assert.That(trainer.Classes, Is.Zero, "a 2x4x4 output has no cross-entropy");
        float[] input = TrainingNetworks.Random(Batch * trainer.InputSize, 4);
        float[] targets = TrainingNetworks.Random(Batch * trainer.OutputSize, 5);
        StepResult r = trainer.ComputeGradients(input, targets, Batch);

        var reference = ReferenceNetwork<double>.Create(new Shape(2, 6, 6), b => b.Conv2D("c1", 3, 3, activation: Activation.Tanh).Conv2D("c2", 2, 1));
        reference.Load(trainer.ToTensorSet());
        double[] y = reference.Forward(ReferenceNetwork<double>.From(input), Batch, training: true);
        var dy = new double[y.Length];
        double loss = Reference<double>.MeanSquaredError(y, ReferenceNetwork<double>.From(targets), dy);
        reference.Backward(dy);
        Assert.That(r.Loss, Is.EqualTo(loss).Within(1e-5 * (1 + loss)));
        foreach (Parameter p in trainer.Parameters)
        {
            Close(reference.Parameters.Single(x => x.Name == p.Name).Grad, p.ToTensor(p.Name, p.Gradient).Data, "d " + p.Name);
        }

        Assert.Throws<InvalidOperationException>(() => trainer.ComputeGradients(input, new int[Batch], Batch), "labels need class scores");
        Assert.Throws<InvalidOperationException>(() => trainer.Evaluate(input, new int[Batch], Batch));
    }

    [Test]
    public void Label_smoothing_follows_PyTorch()
    {
        var options = new TrainerOptions { LabelSmoothing = 0.1 };
        using NetworkTrainer trainer = TrainingNetworks.Create("DropoutNet", seed: 9, options);
        float[] input = TrainingNetworks.Random(Batch * trainer.InputSize, 6);
        int[] labels = { 1, 6, 0 };
        ReferenceNetwork<double> reference = Reference(trainer, 0);
        StepResult r = trainer.ComputeGradients(input, labels, Batch);
        double[] logits = reference.Forward(ReferenceNetwork<double>.From(input), Batch, training: true);
        var dz = new double[logits.Length];
        double loss = Reference<double>.CrossEntropy(logits, Batch, 7, labels, 0.1, dz);
        reference.Backward(dz);
        Assert.That(r.Loss, Is.EqualTo(loss).Within(1e-5 * (1 + loss)));
        foreach (Parameter p in trainer.Parameters)
        {
            Close(reference.Parameters.Single(x => x.Name == p.Name).Grad, p.ToTensor(p.Name, p.Gradient).Data, "d " + p.Name);
        }
    }

    [Test]
    public void Step_clips_when_asked_exactly_as_clipping_by_hand()
    {
        float[] input = TrainingNetworks.Random(Batch * 108, 7);
        int[] labels = { 2, 3, 4 };
        using NetworkTrainer clipped = TrainingNetworks.Create("DropoutNet", seed: 1, new TrainerOptions { MaxGradientNorm = 0.01 });
        var sgd = new Sgd(clipped.Parameters, new SgdOptions { LearningRate = 0.1 });
        clipped.Step(input, labels, Batch, sgd);

        using NetworkTrainer byHand = TrainingNetworks.Create("DropoutNet", seed: 1);
        var sgd2 = new Sgd(byHand.Parameters, new SgdOptions { LearningRate = 0.1 });
        byHand.ComputeGradients(input, labels, Batch);
        Assert.That(sgd2.ClipGradientNorm(0.01), Is.GreaterThan(0.01f), "the clip bites");
        sgd2.Step();
        Assert.That(TrainingNetworks.Bits(clipped, sgd), Is.EqualTo(TrainingNetworks.Bits(byHand, sgd2)));
    }
}
