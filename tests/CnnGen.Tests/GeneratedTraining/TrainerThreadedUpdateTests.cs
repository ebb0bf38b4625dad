using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Tests.Networks;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// A step on several threads sums, checks and updates the parameters in the threads' job, each thread its part of every
/// parameter (<c>NetworkTrainer.ReduceAndUpdate</c>), instead of on the calling thread after it. The result must be the
/// serial path's bits (gradients computed on the same threads, then <see cref="Optimizer.Step"/>): the sum runs in
/// thread order per element and every optimizer formula is element-wise. One thread and gradient clipping (which needs
/// the whole gradient's norm first) keep the serial path. A non-finite gradient is still refused by name with nothing
/// changed, whichever thread's part holds it. Dense layers' gradient buffers are stored whole by their kernels, so
/// they are not cleared before a pass.
/// </summary>
[TestFixture]
public sealed class TrainerThreadedUpdateTests
{
    public static IEnumerable<TestCaseData> Cases() =>
        from network in GoldenTrainers.Networks
        from width in GeneratorHarness.Widths
        from threads in new[] { 1, 2, 3 }
        select new TestCaseData(network, width, threads).SetArgDisplayNames(network, width.ToString(), threads + (threads == 1 ? " thread" : " threads"));

    public static IEnumerable<TestCaseData> WidthsAndThreads() =>
        from width in GeneratorHarness.Widths
        from threads in new[] { 1, 2, 3 }
        select new TestCaseData(width, threads).SetArgDisplayNames(width.ToString(), threads + (threads == 1 ? " thread" : " threads"));

    private static Optimizer[] Optimizers(NetworkTrainer trainer) =>
    [
        new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 0.05, Momentum = 0.9, WeightDecay = 1e-4 }),
        new Adam(trainer.Parameters, new AdamOptions { LearningRate = 1e-3, AmsGrad = true }),
        new AdamW(trainer.Parameters, new AdamWOptions { LearningRate = 1e-3 }),
    ];

    /// <summary>The first <paramref name="images"/> images of the golden's first batch and their labels.</summary>
    internal static (float[] Input, int[] Labels) Batch(string network, int images)
    {
        (float[] input, int[] labels, int n) = GoldenTrainers.Golden(network).Batch(0);
        return (input.Take(images * (input.Length / n)).ToArray(), labels.Take(images).ToArray());
    }

    [TestCaseSource(nameof(Cases))]
    public void Steps_on_the_threads_give_the_serial_steps_bits(string network, VectorWidth width, int threads)
    {
        TrainingGolden golden = GoldenTrainers.Golden(network);
        (float[] input, int[] labels) = Batch(network, 11); // 11 images: threads of 5 and 6, or 3, 4 and 4
        for (int o = 0; o < 3; o++)
        {
            using NetworkTrainer fused = GoldenTrainers.Load(network, golden.Init, width, threads);
            using NetworkTrainer serial = GoldenTrainers.Load(network, golden.Init, width, threads);
            Optimizer a = Optimizers(fused)[o], b = Optimizers(serial)[o];
            for (int step = 1; step <= 3; step++)
            {
                // the span overloads (the caller copies); TrainerMemoryInputTests gives the array and memory overloads the span steps' bits on these cases
                StepResult r = fused.Step(input.AsSpan(), labels.AsSpan(), labels.Length, a);
                StepResult s = serial.ComputeGradients(input.AsSpan(), labels.AsSpan(), labels.Length);
                b.Step();
                Assert.That(r, Is.EqualTo(s), $"{network} {a.Name} step {step}: loss and accuracy");
                Assert.That(TrainingNetworks.Bits(fused, a), Is.EqualTo(TrainingNetworks.Bits(serial, b)), $"{network} {a.Name} step {step}: weights, state, statistics, step count");
                Assert.That(a.StepCount, Is.EqualTo(step));
            }
        }
    }

    /// <summary>
    /// Dense layers' gradients are stored by their backward kernels, not cleared and added into (the trainer clears only
    /// the others): whatever the buffers held, two passes give one thread's gradients, also with more threads than images
    /// (a thread with no image stores zeros).
    /// </summary>
    [TestCaseSource(nameof(Cases))]
    public void Gradients_are_overwritten_whatever_the_buffers_held(string network, VectorWidth width, int threads)
    {
        TrainingGolden golden = GoldenTrainers.Golden(network);
        (float[] input, int[] labels) = Batch(network, 2);
        using NetworkTrainer one = GoldenTrainers.Load(network, golden.Init, width, 1);
        one.ComputeGradients(input, labels, labels.Length);
        using NetworkTrainer trainer = GoldenTrainers.Load(network, golden.Init, width, threads);
        for (int pass = 1; pass <= 2; pass++)
        {
            foreach (Parameter p in trainer.Parameters)
            {
                p.Gradient.Fill(12345f);
            }

            if (pass == 1)
            {
                trainer.ComputeGradients(input.AsSpan(), labels.AsSpan(), labels.Length); // the caller copies
            }
            else
            {
                trainer.ComputeGradients(input, labels, labels.Length); // each thread copies its own images
            }

            for (int k = 0; k < one.Parameters.Count; k++)
            {
                Training.TrainingGolden.AssertClose(trainer.Parameters[k].Gradient, one.Parameters[k].Gradient, 1e-5, $"{network}, {threads} threads, pass {pass}: d {one.Parameters[k].Name}");
            }
        }
    }

    [TestCaseSource(nameof(WidthsAndThreads))]
    public void Clipped_steps_keep_the_serial_path(VectorWidth width, int threads)
    {
        TrainingGolden golden = GoldenTrainers.Golden("mlp");
        (float[] input, int[] labels) = Batch("mlp", 9);
        using NetworkTrainer clipped = MlpLogits.Trainer.Load(golden.Init, new TrainerOptions { VectorWidth = width, Threads = threads, MaxGradientNorm = 0.05 });
        using NetworkTrainer serial = GoldenTrainers.Load("mlp", golden.Init, width, threads);
        var a = new Sgd(clipped.Parameters, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 });
        var b = new Sgd(serial.Parameters, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 });
        for (int step = 1; step <= 2; step++)
        {
            if (step == 1)
            {
                clipped.Step(input.AsSpan(), labels.AsSpan(), labels.Length, a); // the caller copies
            }
            else
            {
                clipped.Step(input, labels, labels.Length, a); // each thread copies its own images
            }

            serial.ComputeGradients(input, labels, labels.Length);
            Assert.That(b.ClipGradientNorm(0.05), Is.GreaterThan(0.05f), "the clip bites");
            b.Step();
            Assert.That(TrainingNetworks.Bits(clipped, a), Is.EqualTo(TrainingNetworks.Bits(serial, b)), $"step {step}");
        }
    }

    /// <summary>
    /// The MLP (softmax output) with the squared error against a target of -float.MaxValue for class 0: the loss is finite
    /// (it is summed in double), fc3's weights are zero (every probability 0.1: d logit 0 = 6.1e36) and fc2's bias is 100
    /// (its outputs about 100), so d fc3.weight = 100 x 6.1e36 overflows; fc3.bias and the earlier layers' gradients stay
    /// finite (fc3's weights being zero, nothing flows back).
    /// </summary>
    [TestCaseSource(nameof(WidthsAndThreads))]
    public void A_gradient_overflow_is_refused_by_name_on_any_thread_and_changes_nothing(VectorWidth width, int threads)
    {
        const int batch = 7;
        using var trainer = Mlp.Trainer.Create(seed: 11, new TrainerOptions { VectorWidth = width, Threads = threads });
        Parameter fc2Bias = trainer.Parameters.Single(p => p.Name == "fc2.bias");
        Parameter fc3Weight = trainer.Parameters.Single(p => p.Name == "fc3.weight");
        fc2Bias.FromPyTorch(Enumerable.Repeat(100f, fc2Bias.ElementCount).ToArray(), fc2Bias.Value);
        fc3Weight.Value.Clear();
        var sgd = new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 1e-3, Momentum = 0.9 });
        float[] input = TrainingNetworks.Random(batch * trainer.InputSize, 5, scale: 1f);
        float[] targets = new float[batch * trainer.OutputSize];
        for (int i = 0; i < batch; i++)
        {
            targets[i * trainer.OutputSize] = -float.MaxValue;
        }

        int[] before = TrainingNetworks.Bits(trainer, sgd);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Step(input, targets, batch, sgd))!;
        Assert.That(e.Layer, Is.EqualTo("fc3"));
        Assert.That(e.Message, Does.Contain("step 1").And.Contain("fc3.weight"));
        Assert.That(TrainingNetworks.Bits(trainer, sgd), Is.EqualTo(before), "weights, momentum and step counts unchanged");
        Assert.That(sgd.StepCount, Is.Zero);

        // The same trainer steps normally afterwards (every thread's part updated, the step counted once).
        Array.Clear(targets);
        trainer.Step(input, targets, batch, sgd);
        Assert.That(sgd.StepCount, Is.EqualTo(1));
        Assert.That(trainer.StepCount, Is.EqualTo(1));
        Assert.That(TrainingNetworks.Bits(trainer, sgd), Is.Not.EqualTo(before));
    }
}
