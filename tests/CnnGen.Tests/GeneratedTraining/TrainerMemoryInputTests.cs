using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Tests.Networks;
using CnnGen.Training;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

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
        Assert.That(span.Parameters.Single(p => p.Name == "wide.weight").ColumnBlockFloats, Is.GreaterThan(0), "wide is split by columns");
        Sgd a = Momentum(span), b = Momentum(memory);
        for (int step = 1; step <= 3; step++)
        {
            float[] input = TrainingNetworks.Random(batch * span.InputSize, 20 + step);
            int[] labels = Enumerable.Range(0, batch).Select(i => ((3 * i) + step) % 10).ToArray();
            Assert.That(memory.Step(input, labels, batch, b), Is.EqualTo(span.Step(input.AsSpan(), labels.AsSpan(), batch, a)));
            Assert.That(TrainingNetworks.Bits(memory, b), Is.EqualTo(TrainingNetworks.Bits(span, a)), $"step {step}");
        }
    }

    /// <summary>NaN or infinity in the first image (thread 0's), the middle one or the last (the last thread's): the span overloads' error, nothing changed, and the next step as if the bad batch never came.</summary>
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
        // thread 0's first image, the middle image (thread 1's on 3 threads, the last thread's on 2) and the last image
        foreach (int index in new[] { 5, (batch / 2) * trainer.InputSize, ((batch - 1) * trainer.InputSize) + 100 })
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
                Assert.That(Assert.Throws<ArgumentException>(() => trainer.Step(new ProbeMemory(copy).Memory, labels.AsMemory(), batch, sgd))!.Message, Does.Contain(expected), "memory not backed by an array");
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

    /// <summary>
    /// On an array, each thread copies its own images (one <c>CopyInputs</c> per thread index, on as many distinct
    /// managed threads); on one thread, and with the span overloads, the caller copies and no thread does.
    /// </summary>
    [TestCaseSource(nameof(ThreadCounts))]
    public void On_an_array_each_thread_copies_its_own_images(int threads)
    {
        const int batch = 7;
        using var trainer = Mlp.Trainer.Create(seed: 3, new TrainerOptions { Threads = threads });
        Sgd sgd = Momentum(trainer);
        float[] input = TrainingNetworks.Random(batch * trainer.InputSize, 8);
        int[] labels = { 1, 2, 3, 4, 5, 6, 7 };
        var copiers = new ConcurrentDictionary<int, int>(); // thread index -> managed thread id
        int calls = 0;
        trainer.InputsCopied = thread =>
        {
            Interlocked.Increment(ref calls);
            copiers[thread] = Environment.CurrentManagedThreadId;
        };

        trainer.Step(input, labels, batch, sgd);
        trainer.ComputeGradients(input.AsMemory(), labels.AsMemory(), batch);
        if (threads == 1)
        {
            Assert.That(calls, Is.Zero, "one thread: the caller copies");
        }
        else
        {
            Assert.That(calls, Is.EqualTo(2 * threads), "one copy per thread and pass");
            Assert.That(copiers.Keys.Order(), Is.EqualTo(Enumerable.Range(0, threads)), "every thread index copied");
            Assert.That(copiers.Values.Distinct().Count(), Is.EqualTo(threads), "on as many distinct threads");
        }

        calls = 0;
        trainer.Step(input.AsSpan(), labels.AsSpan(), batch, sgd);
        Assert.That(calls, Is.Zero, "the span overload: the caller copies");
    }

    /// <summary>
    /// Memory not backed by an array (a <see cref="MemoryManager{T}"/>, whose <c>GetSpan</c> may be neither thread-safe
    /// nor free) is read on the calling thread only, which copies the batch as the span overload does: the same bits.
    /// </summary>
    [TestCaseSource(nameof(ThreadCounts))]
    public void Memory_not_backed_by_an_array_is_read_on_the_calling_thread_only(int threads)
    {
        const int batch = 7;
        using var span = Mlp.Trainer.Create(seed: 3, new TrainerOptions { Threads = threads });
        using var memory = Mlp.Trainer.Create(seed: 3, new TrainerOptions { Threads = threads });
        Sgd a = Momentum(span), b = Momentum(memory);
        float[] input = TrainingNetworks.Random(batch * span.InputSize, 8);
        float[] targets = TrainingNetworks.Random(batch * span.OutputSize, 9);
        int[] labels = { 1, 2, 3, 4, 5, 6, 7 };
        var probe = new ProbeMemory(input);
        int copies = 0;
        memory.InputsCopied = _ => Interlocked.Increment(ref copies);
        for (int step = 1; step <= 2; step++)
        {
            Assert.That(memory.Step(probe.Memory, labels.AsMemory(), batch, b), Is.EqualTo(span.Step(input.AsSpan(), labels.AsSpan(), batch, a)));
            Assert.That(memory.Step(probe.Memory, targets.AsMemory(), batch, b), Is.EqualTo(span.Step(input.AsSpan(), targets.AsSpan(), batch, a)));
            Assert.That(TrainingNetworks.Bits(memory, b), Is.EqualTo(TrainingNetworks.Bits(span, a)), $"step {step}");
        }

        Assert.That(memory.ComputeGradients(probe.Memory, labels.AsMemory(), batch), Is.EqualTo(span.ComputeGradients(input.AsSpan(), labels.AsSpan(), batch)));
        Assert.That(GradientBits(memory), Is.EqualTo(GradientBits(span)));
        Assert.That(probe.Readers.Keys, Is.EqualTo(new[] { Environment.CurrentManagedThreadId }), "GetSpan called on the calling thread only");
        Assert.That(copies, Is.Zero, "no thread copied from the memory");
    }

    /// <summary>
    /// An <see cref="ArraySegment{T}"/> converts implicitly both to a span and to memory, so <c>Step(segment, ...)</c>
    /// is ambiguous (CS0121, as the overloads' docs say): <c>.AsMemory()</c> or <c>.AsSpan()</c> choose.
    /// </summary>
    [Test]
    public void An_array_segment_needs_AsMemory_or_AsSpan()
    {
        static string[] Errors(string call)
        {
            string source = $$"""
                using System;
                using CnnGen.Training;
                static class User
                {
                    static void M(NetworkTrainer trainer, ArraySegment<float> segment, ArraySegment<int> labels, Optimizer optimizer) => {{call}};
                }
                """;
            var compilation = CSharpCompilation.Create("SegmentUser", new[] { CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions) }, GeneratorHarness.MetadataReferences,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
            return compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id).ToArray();
        }

        Assert.That(Errors("trainer.Step(segment, labels, 4, optimizer)"), Is.EqualTo(new[] { "CS0121" }), "ambiguous");
        Assert.That(Errors("trainer.ComputeGradients(segment, labels, 4)"), Is.EqualTo(new[] { "CS0121" }), "ambiguous");
        Assert.That(Errors("trainer.Step(segment.AsMemory(), labels.AsMemory(), 4, optimizer)"), Is.Empty);
        Assert.That(Errors("trainer.Step(segment.AsSpan(), labels.AsSpan(), 4, optimizer)"), Is.Empty);
    }

    private static NetworkTrainer Create(ulong seed, int threads)
    {
        Type type = Compiled.Value.GetType("MemoryInputNetworks.InputSplitNet+Trainer", throwOnError: true)!;
        return (NetworkTrainer)type.GetMethod("Create", new[] { typeof(ulong), typeof(TrainerOptions) })!.Invoke(null, new object?[] { seed, new TrainerOptions { Threads = threads } })!;
    }

    /// <summary>Memory over an array that is not an array to <c>MemoryMarshal.TryGetArray</c>, recording the threads that take its span.</summary>
    private sealed class ProbeMemory : MemoryManager<float>
    {
        private readonly float[] _array;

        public ProbeMemory(float[] array) => _array = array;

        public ConcurrentDictionary<int, bool> Readers { get; } = new();

        public override Span<float> GetSpan()
        {
            Readers[Environment.CurrentManagedThreadId] = true;
            return _array;
        }

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("not pinned in these tests");

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
