using System;
using System.Linq;
using CnnGen.Tests.Networks;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// Bad input and divergence: a clear exception naming what is wrong (the index, the step, the layer), and nothing
/// changes: weights, running statistics, optimizer state and the step count are the same bits afterwards.
/// </summary>
[TestFixture]
public sealed class TrainerValidationTests
{
    private const int Batch = 4;

    private static (NetworkTrainer Trainer, Optimizer Optimizer, float[] Input, int[] Labels) Trained()
    {
        var trainer = CifarResNet8Bn.Trainer.Create(seed: 5, new TrainerOptions { Threads = 2 });
        var sgd = new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 0.01, Momentum = 0.9 });
        float[] input = TrainingNetworks.Random(Batch * trainer.InputSize, 2);
        int[] labels = { 0, 3, 9, 4 };
        trainer.Step(input, labels, Batch, sgd);
        return (trainer, sgd, input, labels);
    }

    /// <summary>Runs <paramref name="bad"/> on a trained trainer: it must throw <paramref name="exception"/> with <paramref name="message"/> and change nothing.</summary>
    private static void Unchanged(Action<NetworkTrainer, Optimizer, float[], int[]> bad, Type exception, string message)
    {
        (NetworkTrainer trainer, Optimizer optimizer, float[] input, int[] labels) = Trained();
        using (trainer)
        {
            int[] before = TrainingNetworks.Bits(trainer, optimizer);
            var thrown = Assert.Throws(exception, () => bad(trainer, optimizer, input, labels));
            Assert.That(thrown!.Message, Does.Contain(message));
            Assert.That(TrainingNetworks.Bits(trainer, optimizer), Is.EqualTo(before), "nothing changed");
            trainer.Step(input.AsSpan(), labels.AsSpan(), Batch, optimizer); // and the trainer still works (the span overload; Trained() stepped on the arrays)
        }
    }

    [Test]
    public void Wrong_lengths_are_refused() =>
        Unchanged((t, o, x, y) => t.Step(x.AsSpan(1), y, Batch, o), typeof(ArgumentException), "inputs has 12287 elements but CifarResNet8Bn needs 12288");

    [Test]
    public void An_absurd_batch_is_refused_as_out_of_memory_naming_the_batch()
    {
        // 10,000 images of 3,072 floats are a real array, but their workspace (over 272,000 floats an image) passes the
        // largest array: refused with the batch and the size named, before any buffer is allocated
        const int batch = 10_000;
        Unchanged((t, o, _, _) => t.Step(new float[batch * t.InputSize], new int[batch], batch, o), typeof(OutOfMemoryException),
            "CifarResNet8Bn: a batch of 10000 needs ");
        Unchanged((t, o, _, _) => t.Step(new float[batch * t.InputSize], new int[batch], batch, o), typeof(OutOfMemoryException), " floats of workspace");
    }

    [Test]
    public void Wrong_label_counts_are_refused() =>
        Unchanged((t, o, x, y) => t.Step(x, y.AsSpan(1), Batch, o), typeof(ArgumentException), "labels has 3 elements");

    [Test]
    public void Labels_out_of_range_are_refused_by_index() =>
        Unchanged((t, o, x, _) => t.Step(x, new[] { 0, 1, 10, 2 }, Batch, o), typeof(ArgumentException), "labels[2] is 10");

    [Test]
    public void Negative_labels_are_refused_by_index() =>
        Unchanged((t, _, x, _) => t.ComputeGradients(x, new[] { 0, -1, 1, 2 }, Batch), typeof(ArgumentException), "labels[1] is -1");

    [Test]
    public void NaN_and_infinity_in_inputs_are_refused_by_index()
    {
        // the array overload (each thread checks its own images) and the span overload (the caller checks the batch)
        foreach (bool span in new[] { false, true })
        {
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                Unchanged(
                    (t, o, x, y) =>
                    {
                        float[] copy = x.ToArray();
                        copy[777] = bad;
                        if (span)
                        {
                            t.Step(copy.AsSpan(), y.AsSpan(), Batch, o);
                        }
                        else
                        {
                            t.Step(copy, y, Batch, o);
                        }
                    },
                    typeof(ArgumentException),
                    "input[777] is");
            }
        }
    }

    [Test]
    public void Empty_batches_are_refused() =>
        Unchanged((t, o, _, _) => t.Step(ReadOnlySpan<float>.Empty, ReadOnlySpan<int>.Empty, 0, o), typeof(ArgumentOutOfRangeException), "at least one image");

    [Test]
    public void A_batch_too_small_for_batch_statistics_is_refused()
    {
        // ResNet-8's smallest batch norm sees 8 x 8 pixels, so one image is enough; a 1 x 1 map needs two.
        using NetworkTrainer trainer = TrainingNetworks.Create("DropoutNet", seed: 1);
        Assert.That(() => trainer.ComputeGradients(new float[108], new[] { 1 }, 1), Throws.Nothing);
        Assert.That(trainer.Classes, Is.EqualTo(7));
    }

    [Test]
    public void An_optimizer_over_other_parameters_is_refused()
    {
        using var other = LeNet5.Trainer.Create(seed: 1);
        Unchanged((t, _, x, y) => t.Step(x, y, Batch, new Sgd(other.Parameters, new SgdOptions { LearningRate = 0.1 })), typeof(ArgumentException), "trainer.Parameters");
    }

    [Test]
    public void Backward_needs_a_training_forward_just_before()
    {
        using NetworkTrainer trainer = TrainingNetworks.Create("DropoutNet", seed: 1);
        var gradient = new float[2 * trainer.OutputSize];
        Assert.That(() => trainer.Backward(gradient), Throws.InvalidOperationException);
        var outputs = new float[2 * trainer.OutputSize];
        trainer.Forward(new float[2 * trainer.InputSize], 2, outputs, training: false);
        Assert.That(() => trainer.Backward(gradient), Throws.InvalidOperationException, "an evaluation forward stores no training pass");
        trainer.Forward(new float[2 * trainer.InputSize], 2, outputs, training: true);
        Assert.That(() => trainer.Backward(gradient.AsSpan(1)), Throws.ArgumentException);
        gradient[3] = float.NaN;
        Assert.That(() => trainer.Backward(gradient), Throws.ArgumentException.With.Message.Contains("input[3]"));
    }

    [Test]
    public void A_diverging_step_throws_naming_the_step_and_the_layer_and_changes_nothing()
    {
        (NetworkTrainer trainer, Optimizer optimizer, float[] input, int[] labels) = Trained();
        using (trainer)
        {
            // Huge inputs overflow float32 inside the network: the loss is not finite.
            float[] huge = input.Select(v => v * 1e37f).ToArray();
            int[] before = TrainingNetworks.Bits(trainer, optimizer);
            var diverged = Assert.Throws<TrainingDivergedException>(() => trainer.Step(huge, labels, Batch, optimizer))!;
            Assert.That(diverged.Step, Is.EqualTo(2), "the refused step's number");
            Assert.That(diverged.Message, Does.Contain("step 2").And.Contain(diverged.Layer));
            Assert.That(diverged.Layer, Is.Not.Empty.And.Not.EqualTo("loss"), "names the first layer whose output overflowed");
            Assert.That(TrainingNetworks.Bits(trainer, optimizer), Is.EqualTo(before), "weights, running statistics, optimizer state and step count");
        }
    }

    [Test]
    public void A_learning_rate_too_high_ends_in_a_refused_step_that_changes_nothing()
    {
        using var trainer = Mlp.Trainer.Create(seed: 3);
        var sgd = new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 1e18 });
        float[] input = TrainingNetworks.Random(8 * trainer.InputSize, 4, scale: 1f);
        int[] labels = Enumerable.Range(0, 8).ToArray();
        for (int step = 1; step <= 20; step++)
        {
            int[] before = TrainingNetworks.Bits(trainer, sgd);
            try
            {
                trainer.Step(input, labels, 8, sgd);
            }
            catch (TrainingDivergedException e)
            {
                Assert.That(e.Step, Is.EqualTo(step));
                Assert.That(e.Layer, Is.AnyOf("fc1", "fc2", "fc3", "loss"));
                Assert.That(e.Message, Does.Contain($"step {step}"));
                Assert.That(TrainingNetworks.Bits(trainer, sgd), Is.EqualTo(before), "nothing changed");
                Assert.That(sgd.StepCount, Is.EqualTo(step - 1));
                return;
            }
        }

        Assert.Fail("a learning rate of 1e18 should diverge within 20 steps");
    }
}
