using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using CnnGen.Generator.Planning;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// Dense layers the threads split by output columns (<see cref="MachineModel.DenseColumnSplitFloats"/>): the planner's
/// choice (an MLP with a 784 x 384 first layer and the sample's MLP, fc1's 784 x 128; no layer of LeNet-5; the weights in unit blocks, <see cref="ColumnBlockTests"/>), the generated calls and
/// barriers, the gradients against the reference executor on 1, 2 and 3 threads at every width
/// (<see cref="TrainingNetworks.ColumnSplitNet"/>: a split layer after a convolution, with its input gradient and padded
/// units), and a split layer's gradients and updated weights the same bits on every thread count: each thread computes
/// its columns over the whole batch in the one-thread order, and nothing is summed across threads.
/// </summary>
[TestFixture]
public sealed class ColumnSplitTests
{
    private const string Mlp = "[Network(Trainable = true), Input(1, 28, 28), Flatten]\n[Dense(128, Activation = Activation.Relu, Name = \"fc1\"), Dense(64, Activation = Activation.Relu, Name = \"fc2\"), Dense(10, Name = \"fc3\")]\npublic partial class Net;";

    private const string WideMlp = "[Network(Trainable = true), Input(1, 28, 28), Flatten]\n[Dense(384, Activation = Activation.Relu, Name = \"fc1\"), Dense(64, Activation = Activation.Relu, Name = \"fc2\"), Dense(10, Name = \"fc3\")]\npublic partial class Net;";

    private const string LeNet5 = "[Network(Trainable = true), Input(1, 28, 28)]\n[Conv2D(6, 5, Padding = 2), ReLU, MaxPool2D(2)]\n"
        + "[Conv2D(16, 5), ReLU, MaxPool2D(2), Flatten]\n[Dense(120), ReLU, Dense(84), ReLU, Dense(10)]\npublic partial class Net;";

    public static IEnumerable<TestCaseData> WidthsAndThreads() =>
        from w in GeneratorHarness.Widths
        from threads in new[] { 1, 2, 3 }
        select new TestCaseData(w, threads).SetArgDisplayNames(w.ToString(), threads + " thread(s)");

    private static global::CnnGen.Generator.Shapes.ShapedNetwork Net(string declaration) => GeneratorHarness.Models("using CnnGen;\n" + declaration).Single().Net;

    [Test]
    public void Only_dense_layers_with_many_weights_split_by_columns()
    {
        var wide = TrainingPlanner.Plan(Net(WideMlp)).Layers;
        Assert.That(wide.Select(l => (l.Name, l.SplitColumns)), Is.EqualTo(new[] { ("fc1", true), ("fc2", false), ("fc3", false) }), "784 x 384 = 301,056 weights split; 24,576 and 640 do not");
        Assert.That(TrainingPlanner.Plan(Net(Mlp)).Layers.Select(l => (l.Name, l.SplitColumns)), Is.EqualTo(new[] { ("fc1", true), ("fc2", false), ("fc3", false) }), "the sample's MLP: fc1 has 100,352 weights, where the split in unit blocks measured faster");
        Assert.That(TrainingPlanner.Plan(Net(LeNet5)).Layers.Select(l => l.SplitColumns), Is.All.False, "LeNet-5's largest layer, fc1, has 48,000 weights");
        Assert.That(MachineModel.Targets.Select(m => m.DenseColumnSplitFloats).Distinct(), Is.EqualTo(new[] { 64 * 1024 }));
        foreach (var plan in TrainingPlanner.Plan(Net(WideMlp)).Plans)
        {
            Assert.That(plan.Packs.Select(p => p.BlockUnits), Is.EqualTo(new[] { plan.Forward.Machine.Width, 0, 0 }), "fc1's weights in unit blocks of a vector; the others one [feature][padded units] tile");
        }
    }

    [Test]
    public void The_split_layer_runs_over_the_batch_for_a_range_of_vectors_between_barriers()
    {
        var files = GeneratorHarness.Run("using CnnGen;\n" + WideMlp).Files;
        // whitespace collapsed: the lines' indentation is the emitter's business
        string kernels = Regex.Replace(files.Single(f => f.Key.EndsWith(".Backward512.g.cs", StringComparison.Ordinal)).Value, @"\s+", " ");
        string trainer = files.Single(f => f.Key.EndsWith(".Trainer.g.cs", StringComparison.Ordinal)).Value;

        // forward: fc1 over every image for the thread's 3-vector tiles of its 24 vectors, a barrier, then fc2 on the thread's images
        Assert.That(kernels, Does.Contain("Fc1(ref input, ref workspace, t.BatchSize, t._fc1Weight, t._fc1Bias, t.VectorPart(thread, 24), t.VectorPart(thread + 1, 24)); t.Synchronize();"));
        Assert.That(kernels, Does.Contain("Fc2(ref At(ref workspace, begin * "));
        Assert.That(kernels, Does.Contain("private static void Fc1(ref float x, ref float y, int count, global::System.Memory<float> weight, global::System.Memory<float> bias, int vectorStart, int vectorEnd)"));
        Assert.That(kernels, Does.Contain("case 1: Fc1Tile8x1(").And.Contain("case 2: Fc1Tile8x2(").And.Contain("default: Fc1Tile8x3("));

        // backward: a barrier before fc1's weight gradient over the whole batch; fc2's stays on the thread's images
        Assert.That(kernels, Does.Contain("t.Synchronize(); Fc1BackwardWeights(ref input, ref At(ref workspace, "));
        Assert.That(kernels, Does.Contain(", t.BatchSize, fc1WeightGradient, fc1BiasGradient, t.VectorPart(thread, 24), t.VectorPart(thread + 1, 24));"));
        Assert.That(kernels, Does.Contain("end - begin, fc2WeightGradient, fc2BiasGradient);"));
        Assert.That(kernels, Does.Contain("for (int j = vectorStart * 16; j < vectorEnd * 16; j += 16)"), "the bias gradient of the thread's columns");

        // the weights in unit blocks: a tile of 3 vectors reads 3 blocks of 784 x 16 floats, from its first vector's block
        Assert.That(kernels, Does.Contain("Weights: in unit blocks, [24 output vectors][784 features][16], 12544 floats a block"));
        Assert.That(kernels, Does.Contain("default: Fc1Tile8x3(ref xi, ref At(ref w, vector * 12544), ref At(ref b, vector * 16), ref At(ref yi, vector * 16)); break;"));
        Assert.That(kernels, Does.Contain("ref float wk = ref At(ref w, k * 16); var w0 = Load(ref wk); var w1 = Load(ref wk, 12544); var w2 = Load(ref wk, 25088);"));
        Assert.That(kernels, Does.Contain("ref At(ref gw, (vector * 12544) + ((0 + c0) * 16)), count);"));

        // the runtime learns which parameters are split: the weights one row of whole blocks, the bias one row of vectors
        Assert.That(trainer, Does.Contain("TrainingLayouts.Dense(384, 1, 28, 28, hwc: false, paddedUnits: 384, blockUnits: 16);"));
        Assert.That(trainer, Does.Contain("\"fc1\", blockFloats: fc1Block);"));
        Assert.That(trainer, Does.Contain("\"fc1\", blockFloats: fc1Vector);"));
        Assert.That(trainer, Does.Contain("fc1Block = 12544;"));
        Assert.That(trainer, Does.Contain("\"fc2\", gradientOverwritten: true);"));
    }

    [Test]
    public void A_split_layer_keeps_its_rows_on_cache_lines()
    {
        // every row starts on a 64-byte line when the buffer does (the rows are whole vectors), so two threads never write one
        // line: every parameter's value and gradient and every optimizer buffer, the split layer's 278,528 floats included,
        // after the heap was compacted too (the buffers are windows of pinned arrays, which never move)
        using NetworkTrainer trainer = TrainingNetworks.Create("ColumnSplitNet", seed: 9, new TrainerOptions { VectorWidth = VectorWidth.V512, Threads = 2 });
        var sgd = new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 });
        var adam = new Adam(trainer.Parameters, new AdamOptions { AmsGrad = true });
        CnnGen.Training.Parameter big = trainer.Parameters.Single(p => p.Name == "big.weight");
        Assert.That((big.ElementCount, big.PackedLength), Is.EqualTo((136 * 2048, 144 * 2048)), "the split layer: 136 units (144 padded) x 2,048 features");
        for (int round = 0; round < 2; round++)
        {
            foreach (CnnGen.Training.Parameter p in trainer.Parameters)
            {
                Assert.That(CnnGen.Internal.TrainingBuffers.OnLine(p.Value), Is.True, $"{p.Name} value ({p.PackedLength} floats)");
                Assert.That(CnnGen.Internal.TrainingBuffers.OnLine(p.Gradient), Is.True, $"{p.Name} gradient");
                Assert.That(sgd.Buffers.Concat(adam.Buffers).Where(b => b.Parameter == p).Select(b => CnnGen.Internal.TrainingBuffers.OnLine(b.Data)), Is.All.True, p.Name + " optimizer state");
            }

            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
    }

    [Test]
    public void Parameters_and_optimizer_outlive_the_trainer()
    {
        // the windows hold their arrays: with the trainer disposed and unreachable, and the heap compacted, the parameter
        // list and the optimizer still step on line-aligned buffers, giving the bits of the same step on plain copies
        (List<CnnGen.Training.Parameter> parameters, Adam adam, WeakReference trainer) = Orphaned();
        List<CnnGen.Training.Parameter> copies = parameters.Select(p =>
            new CnnGen.Training.Parameter(p.Name, [.. p.Shape], p.Value.ToArray(), p.Gradient.ToArray(), p.Layout)).ToList();
        var reference = new Adam(copies, new AdamOptions { AmsGrad = true });
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        Assert.That(trainer.IsAlive, Is.False, "the trainer is gone");

        adam.Step();
        reference.Step();
        foreach ((CnnGen.Training.Parameter p, CnnGen.Training.Parameter copy) in parameters.Zip(copies))
        {
            Assert.That(CnnGen.Internal.TrainingBuffers.OnLine(p.Value) && CnnGen.Internal.TrainingBuffers.OnLine(p.Gradient), Is.True, p.Name + " on its line");
            Assert.That(p.Gradient.ContainsAnyExcept(0f), Is.True, p.Name + " has a gradient");
            CnnGen.Tests.Training.OptimizerTestSupport.AssertBitwiseEqual(p.Value, copy.Value, p.Name + " stepped value");
        }

        Assert.That(adam.Buffers.Select(b => CnnGen.Internal.TrainingBuffers.OnLine(b.Data)), Is.All.True, "optimizer state on its lines");
        CnnGen.Tests.Training.OptimizerTestSupport.AssertBitwiseEqual(adam.Buffers.Last().Data, reference.Buffers.Last().Data, "max_exp_avg_sq of the last parameter");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (List<CnnGen.Training.Parameter>, Adam, WeakReference) Orphaned()
    {
        using NetworkTrainer trainer = TrainingNetworks.Create("ColumnSplitNet", seed: 9, new TrainerOptions { VectorWidth = VectorWidth.V512, Threads = 2 });
        List<CnnGen.Training.Parameter> parameters = [.. trainer.Parameters];
        foreach (CnnGen.Training.Parameter p in parameters)
        {
            float[] dense = new float[p.ElementCount];
            new CounterRandom(5, p.Name).FillUniform(dense, -1, 1);
            p.FromPyTorch(dense, p.Gradient);
        }

        return (parameters, new Adam(parameters, new AdamOptions { AmsGrad = true }), new WeakReference(trainer));
    }

    [Test]
    public void Line_aligned_buffers_start_on_a_line_at_every_size()
    {
        // every size, small and large (the split layer's 278,528 floats, 2^20), allocated again and again between garbage of
        // odd sizes that moves where the pinned heap hands out memory: each window is on a line, as long as asked, zeroed
        var kept = new List<Memory<float>>();
        int[] sizes = [.. Enumerable.Range(0, 70), 1000, 4095, 4096, 4097, 100_352, 278_528, 1 << 20];
        var garbage = new List<float[]>();
        foreach (int floats in sizes)
        {
            for (int k = 0; k < (floats > 10_000 ? 4 : 20); k++)
            {
                garbage.Add(GC.AllocateArray<float>(1 + ((floats + k) % 37), pinned: k % 2 == 0));
                Memory<float> m = CnnGen.Internal.TrainingBuffers.LineAligned(floats);
                Assert.That(CnnGen.Internal.TrainingBuffers.OnLine(m.Span), Is.True, $"{floats} floats, buffer {k}");
                Assert.That(m.Length, Is.EqualTo(floats));
                Assert.That(m.Span.ContainsAnyExcept(0f), Is.False, $"{floats} floats zeroed");
                kept.Add(m);
            }
        }

        garbage.Clear();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        Assert.That(kept.Select(m => CnnGen.Internal.TrainingBuffers.OnLine(m.Span)), Is.All.True, "still on their lines after a compacting collection");
        Assert.Throws<ArgumentOutOfRangeException>(() => CnnGen.Internal.TrainingBuffers.LineAligned(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CnnGen.Internal.TrainingBuffers.LineAligned(Array.MaxLength));
    }

    [TestCaseSource(nameof(WidthsAndThreads))]
    public void Gradients_match_the_reference(VectorWidth width, int threads)
    {
        using NetworkTrainer trainer = TrainingNetworks.Create("ColumnSplitNet", seed: 9, new TrainerOptions { VectorWidth = width, Threads = threads });
        ReferenceNetwork<float> reference = ReferenceNetwork<float>.Create(new Shape(4, 16, 16), b => b
            .Conv2D("a", 8, 3, padding: 1, activation: Activation.Relu)
            .Conv2D("b", 8, 3, padding: 1, activation: Activation.Relu)
            .Flatten()
            .Dense("big", 136, activation: Activation.Relu)
            .Dense("fc", 5));
        TrainingNetworks.AssertSgdStepsMatch(trainer, reference, steps: 2, batch: 7, classes: 5, inputSeed: 90, labelStride: 2, 1e-4, $"{width}, {threads} thread(s)");
    }

    [TestCaseSource(typeof(GeneratorHarness), nameof(GeneratorHarness.Widths))]
    public void A_split_layer_gets_the_same_bits_on_every_thread_count(VectorWidth width)
    {
        // ColumnSplitNet on 7 images: its "big" layer's gradients of a step and its values after the SGD update (the update
        // of each thread's columns), as bits; a second step would differ through the batch-split layers' gradients
        float[] input = TrainingNetworks.Random(7 * 4 * 16 * 16, seed: 91, scale: 2f);
        int[] labels = Enumerable.Range(0, 7).Select(i => i % 5).ToArray();
        int[][] Split(int threads)
        {
            using NetworkTrainer trainer = TrainingNetworks.Create("ColumnSplitNet", seed: 9, new TrainerOptions { VectorWidth = width, Threads = threads });
            var parameters = new[] { "big.weight", "big.bias" }.Select(name => trainer.Parameters.Single(p => p.Name == name)).ToArray();
            var sgd = new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 });
            trainer.Step(input, labels, labels.Length, sgd);
            return parameters.Select(p => p.Gradient.ToArray()).Concat(parameters.Select(p => p.Value.ToArray()))
                .Select(a => a.Select(BitConverter.SingleToInt32Bits).ToArray()).ToArray();
        }

        int[][] one = Split(1);
        foreach (int threads in new[] { 2, 3, 4 })
        {
            int[][] other = Split(threads);
            for (int k = 0; k < one.Length; k++)
            {
                Assert.That(other[k], Is.EqualTo(one[k]), $"{width}: {threads} threads vs 1, array {k} (the gradients, then the values after the update)");
            }
        }
    }
}
