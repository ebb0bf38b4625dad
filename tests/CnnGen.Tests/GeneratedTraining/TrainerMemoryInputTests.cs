using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Tests.Networks;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// <c>Step</c> and <c>ComputeGradients</c> on arrays and <see cref="ReadOnlyMemory{T}"/>: on several threads each
/// thread copies and checks its own images (<c>NetworkTrainer.CopyInputs</c>) instead of the caller copying the whole
/// batch. The results must be the span overloads' bits on every thread count, a NaN or infinite input must be refused
/// by index (the span overloads' message) whichever thread's images hold it, with nothing changed (weights, optimizer
/// state, gradients, step counts), and the trainer must step normally afterwards.
/// </summary>
[TestFixture]
public sealed class TrainerMemoryInputTests
{
    /// <summary>A dense layer split by columns that reads the network input itself (1,024 x 256 weights): its forward product reads every thread's copied images.</summary>
    private const string InputSplitNet = """
        using CnnGen;
        namespace MemoryInputNetworks;
        [Network(Trainable = true), Input(1, 32, 32)]
        [Flatten, Dense(256, Name = "wide", Activation = Activation.Relu), Dense(10, Name = "fc")]
        public partial class InputSplitNet;
        """;

    private static readonly Lazy<Assembly> Compiled = new(() => GeneratorHarness.CompileAndLoad(InputSplitNet));

    public static IEnumerable<TestCaseData> ThreadCounts() =>
        new[] { 1, 2, 3 }.Select(t => new TestCaseData(t).SetArgDisplayNames(t + (t == 1 ? " thread" : " threads")));

    private static Sgd Momentum(NetworkTrainer trainer) => new(trainer.Parameters, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 });

    private static int[] GradientBits(NetworkTrainer trainer) =>
        trainer.Parameters.SelectMany(p => p.Gradient.ToArray()).Select(BitConverter.SingleToInt32Bits).ToArray();

    [TestCaseSource(typeof(TrainerThreadedUpdateTests), nameof(TrainerThreadedUpdateTests.Cases))]
    public void Memory_and_array_steps_give_the_span_steps_bits(string network, VectorWidth width, int threads)
    {
        TrainingGolden golden = GoldenTrainers.Golden(network);
        (float[] input, int[] labels) = TrainerThreadedUpdateTests.Batch(network, 11); // threads of 5 and 6, or 3, 4 and 4 images
        int size = input.Length / labels.Length;

        // the memory overload gets a slice of a larger array (one image before, one after)
        float[] wide = new float[input.Length + (2 * size)];
        input.CopyTo(wide, size);
        int[] wideLabels = new int[labels.Length + 2];
        labels.CopyTo(wideLabels, 1);
        using NetworkTrainer span = GoldenTrainers.Load(network, golden.Init, width, threads);
        using NetworkTrainer memory = GoldenTrainers.Load(network, golden.Init, width, threads);
        using NetworkTrainer array = GoldenTrainers.Load(network, golden.Init, width, threads);
        Sgd a = Momentum(span), b = Momentum(memory), c = Momentum(array);
        for (int step = 1; step <= 3; step++)
        {
            StepResult r = span.Step(input.AsSpan(), labels.AsSpan(), labels.Length, a);
            StepResult s = memory.Step(wide.AsMemory(size, input.Length), wideLabels.AsMemory(1, labels.Length), labels.Length, b);
            StepResult t = array.Step(input, labels, labels.Length, c);
            Assert.That(s, Is.EqualTo(r), $"step {step}: memory, loss and accuracy");
            Assert.That(t, Is.EqualTo(r), $"step {step}: array, loss and accuracy");
            int[] expected = TrainingNetworks.Bits(span, a);
            Assert.That(TrainingNetworks.Bits(memory, b), Is.EqualTo(expected), $"step {step}: memory, weights, state, statistics, step count");
            Assert.That(TrainingNetworks.Bits(array, c), Is.EqualTo(expected), $"step {step}: array");
        }

        StepResult g = span.ComputeGradients(input.AsSpan(), labels.AsSpan(), labels.Length);
        Assert.That(memory.ComputeGradients(wide.AsMemory(size, input.Length), wideLabels.AsMemory(1, labels.Length), labels.Length), Is.EqualTo(g));
        Assert.That(array.ComputeGradients(input, labels, labels.Length), Is.EqualTo(g));
        Assert.That(GradientBits(memory), Is.EqualTo(GradientBits(span)), "ComputeGradients on memory");
        Assert.That(GradientBits(array), Is.EqualTo(GradientBits(span)), "ComputeGradients on an array");
    }

    [TestCaseSource(nameof(ThreadCounts))]
    public void Squared_error_overloads_give_the_span_overloads_bits(int threads)
    {
        const int batch = 7;
        using var span = Mlp.Trainer.Create(seed: 3, new TrainerOptions { Threads = threads });
        using var memory = Mlp.Trainer.Create(seed: 3, new TrainerOptions { Threads = threads });
        using var array = Mlp.Trainer.Create(seed: 3, new TrainerOptions { Threads = threads });
        float[] input = TrainingNetworks.Random(batch * span.InputSize, 8);
        float[] targets = TrainingNetworks.Random(batch * span.OutputSize, 9);
        Sgd a = Momentum(span), b = Momentum(memory), c = Momentum(array);
        for (int step = 1; step <= 2; step++)
        {
            StepResult r = span.Step(input.AsSpan(), targets.AsSpan(), batch, a);
            Assert.That(memory.Step(input.AsMemory(), targets.AsMemory(), batch, b), Is.EqualTo(r));
            Assert.That(array.Step(input, targets, batch, c), Is.EqualTo(r));
            Assert.That(TrainingNetworks.Bits(memory, b), Is.EqualTo(TrainingNetworks.Bits(span, a)), $"step {step}: memory");
            Assert.That(TrainingNetworks.Bits(array, c), Is.EqualTo(TrainingNetworks.Bits(span, a)), $"step {step}: array");
        }

        StepResult g = span.ComputeGradients(input.AsSpan(), targets.AsSpan(), batch);
        Assert.That(memory.ComputeGradients(input.AsMemory(), targets.AsMemory(), batch), Is.EqualTo(g));
        Assert.That(array.ComputeGradients(input, targets, batch), Is.EqualTo(g));
        Assert.That(GradientBits(memory), Is.EqualTo(GradientBits(span)));
        Assert.That(GradientBits(array), Is.EqualTo(GradientBits(span)));
    }

    /// <summary>A dense layer split by columns reading the network input: every thread's product waits for every thread's copy.</summary>
    [TestCaseSource(nameof(ThreadCounts))]
    public void A_column_split_layer_reading_the_input_gives_the_span_steps_bits(int threads)
    {
        const int batch = 9;
        using NetworkTrainer span = Create(seed: 4, threads);
        using NetworkTrainer memory = Create(seed: 4, threads);
        Assert.That(span.Parameters.Single(p => p.Name == "wide.weight").ColumnRowFloats, Is.GreaterThan(0), "wide is split by columns");
        Sgd a = Momentum(span), b = Momentum(memory);
        for (int step = 1; step <= 3; step++)
        {
            float[] input = TrainingNetworks.Random(batch * span.InputSize, 20 + step);
            int[] labels = Enumerable.Range(0, batch).Select(i => ((3 * i) + step) % 10).ToArray();
            Assert.That(memory.Step(input, labels, batch, b), Is.EqualTo(span.Step(input.AsSpan(), labels.AsSpan(), batch, a)));
            Assert.That(TrainingNetworks.Bits(memory, b), Is.EqualTo(TrainingNetworks.Bits(span, a)), $"step {step}");
        }
    }

    /// <summary>NaN or infinity in the first image (thread 0's) or the last (the last thread's): the span overloads' error, nothing changed, and the next step as if the bad batch never came.</summary>
    [TestCaseSource(nameof(ThreadCounts))]
    public void A_non_finite_input_is_refused_by_index_on_any_thread_and_changes_nothing(int threads)
    {
        const int batch = 6;
        using var trainer = Mlp.Trainer.Create(seed: 7, new TrainerOptions { Threads = threads });
        using var clean = Mlp.Trainer.Create(seed: 7, new TrainerOptions { Threads = threads });
        Sgd sgd = Momentum(trainer), cleanSgd = Momentum(clean);
        float[] input = TrainingNetworks.Random(batch * trainer.InputSize, 1);
        int[] labels = { 1, 2, 3, 4, 5, 6 };
        trainer.Step(input, labels, batch, sgd);
        clean.Step(input, labels, batch, cleanSgd);
        foreach (int index in new[] { 5, ((batch - 1) * trainer.InputSize) + 100 })
        {
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                float[] copy = (float[])input.Clone();
                copy[index] = bad;
                int[] before = TrainingNetworks.Bits(trainer, sgd), gradients = GradientBits(trainer);
                string expected = $"input[{index}] is";
                Assert.That(Assert.Throws<ArgumentException>(() => trainer.Step(copy, labels, batch, sgd))!.Message, Does.Contain(expected));
                Assert.That(Assert.Throws<ArgumentException>(() => trainer.Step(copy.AsMemory(), labels.AsMemory(), batch, sgd))!.Message, Does.Contain(expected));
                Assert.That(Assert.Throws<ArgumentException>(() => trainer.ComputeGradients(copy, labels, batch))!.Message, Does.Contain(expected));
                Assert.That(Assert.Throws<ArgumentException>(() => trainer.Step(copy.AsSpan(), labels.AsSpan(), batch, sgd))!.Message, Does.Contain(expected), "the span overload's message");
                Assert.That(TrainingNetworks.Bits(trainer, sgd), Is.EqualTo(before), $"input[{index}] = {bad}: weights, momentum, step count");
                Assert.That(GradientBits(trainer), Is.EqualTo(gradients), "gradients");
                Assert.That(sgd.StepCount, Is.EqualTo(1));
            }
        }

        trainer.Step(input, labels, batch, sgd);
        clean.Step(input, labels, batch, cleanSgd);
        Assert.That(TrainingNetworks.Bits(trainer, sgd), Is.EqualTo(TrainingNetworks.Bits(clean, cleanSgd)), "the next step as if the bad batches never came");
    }

    [TestCaseSource(nameof(ThreadCounts))]
    public void Wrong_lengths_are_refused_and_change_nothing(int threads)
    {
        using var trainer = Mlp.Trainer.Create(seed: 7, new TrainerOptions { Threads = threads });
        Sgd sgd = Momentum(trainer);
        float[] input = TrainingNetworks.Random(4 * trainer.InputSize, 1);
        int[] labels = { 1, 2, 3, 4 };
        trainer.Step(input, labels, 4, sgd);
        int[] before = TrainingNetworks.Bits(trainer, sgd);
        Assert.That(Assert.Throws<ArgumentException>(() => trainer.Step(input, labels[..3], 3, sgd))!.Message, Does.Contain($"inputs has {input.Length} elements"));
        Assert.That(Assert.Throws<ArgumentException>(() => trainer.Step(input.AsMemory(0, 3 * trainer.InputSize), labels.AsMemory(), 3, sgd))!.Message, Does.Contain("labels has 4 elements"));
        Assert.That(Assert.Throws<ArgumentException>(() => trainer.Step(input, new[] { 1, 2, 10, 4 }, 4, sgd))!.Message, Does.Contain("labels[2] is 10"));
        Assert.That(Assert.Throws<ArgumentException>(() => trainer.Step(input, new float[3 * trainer.OutputSize], 4, sgd))!.Message, Does.Contain("targets has"));
        Assert.That(Assert.Throws<ArgumentException>(() => trainer.Step((float[])null!, labels, 4, sgd))!.Message, Does.Contain("inputs has 0 elements"));
        Assert.That(TrainingNetworks.Bits(trainer, sgd), Is.EqualTo(before));
    }

    /// <summary>A refused step has overwritten part of the stored input, so a <c>Backward</c> that would read it is refused (span and memory overloads alike).</summary>
    [TestCaseSource(nameof(ThreadCounts))]
    public void Backward_after_a_refused_step_is_refused(int threads)
    {
        const int batch = 4;
        using var trainer = Mlp.Trainer.Create(seed: 7, new TrainerOptions { Threads = threads });
        Sgd sgd = Momentum(trainer);
        float[] input = TrainingNetworks.Random(batch * trainer.InputSize, 1);
        float[] bad = (float[])input.Clone();
        bad[^1] = float.NaN;
        var outputs = new float[batch * trainer.OutputSize];
        foreach (bool memory in new[] { false, true })
        {
            trainer.Forward(input, batch, outputs, training: true);
            Assert.Throws<ArgumentException>(() =>
            {
                if (memory)
                {
                    trainer.Step(bad, new[] { 1, 2, 3, 4 }, batch, sgd);
                }
                else
                {
                    trainer.Step(bad.AsSpan(), new[] { 1, 2, 3, 4 }, batch, sgd);
                }
            });
            Assert.Throws<InvalidOperationException>(() => trainer.Backward(outputs), memory ? "memory" : "span");
        }
    }

    private static NetworkTrainer Create(ulong seed, int threads)
    {
        Type type = Compiled.Value.GetType("MemoryInputNetworks.InputSplitNet+Trainer", throwOnError: true)!;
        return (NetworkTrainer)type.GetMethod("Create", new[] { typeof(ulong), typeof(TrainerOptions) })!.Invoke(null, new object?[] { seed, new TrainerOptions { Threads = threads } })!;
    }
}
