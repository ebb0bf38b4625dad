using System;
using System.Linq;
using CnnGen.Internal;
using CnnGen.Tests.Generator;
using CnnGen.Tests.Networks;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// The unit-block layout of a dense layer the threads split by columns (<c>[unit vector][feature][vector]</c>,
/// <see cref="TrainingLayouts.Dense"/> with a block): where every PyTorch element lands, padded lanes zero, the way back,
/// bad blocks refused; a thread's part of the weights, the gradient and the optimizer state one contiguous run of whole
/// blocks (<see cref="CnnGen.Training.Parameter.Part"/>), also where the vectors do not divide among the threads; the
/// MLP (its fc1 split, reading the network input) saved and loaded in PyTorch's layout across widths, and its steps on 2
/// and 3 threads against 1 (the split layer the same bits, every other parameter within rounding) at every width.
/// <see cref="ColumnSplitTests"/> covers a split layer reading a workspace tensor (after a convolution) against the
/// reference executor.
/// </summary>
[TestFixture]
public sealed class ColumnBlockTests
{
    [Test]
    public void Unit_blocks_hold_each_output_vector_of_pytorch_weights_in_one_run([Values(false, true)] bool hwc, [Values(0, 4, 8, 32)] int block)
    {
        const int units = 20, paddedUnits = 32, channels = 3, height = 2, width = 2, features = channels * height * width;
        ParameterLayout layout = TrainingLayouts.Dense(units, channels, height, width, hwc, paddedUnits, block);
        Assert.That(layout.PackedLength, Is.EqualTo(features * paddedUnits));
        float[] pytorch = Enumerable.Range(0, units * features).Select(i => i + 1f).ToArray();
        var packed = new float[layout.PackedLength];
        layout.Pack(pytorch, packed);

        int b = block == 0 ? paddedUnits : block;
        var expected = new float[packed.Length];
        for (int o = 0; o < units; o++)
        {
            for (int k = 0; k < features; k++)
            {
                // feature k in stored order: H, W, C for an HWC input, PyTorch's C, H, W otherwise
                int source = hwc ? ((k % channels) * height * width) + (k / channels) : k;
                expected[((((o / b) * features) + k) * b) + (o % b)] = pytorch[(o * features) + source];
            }
        }

        Assert.That(packed, Is.EqualTo(expected), "every element in its unit block, padded lanes zero");
        var back = new float[pytorch.Length];
        layout.Unpack(packed, back);
        Assert.That(back, Is.EqualTo(pytorch), "and back to PyTorch's [units, features]");
    }

    [Test]
    public void A_block_that_does_not_divide_the_padded_units_is_refused()
    {
        Assert.Throws<ArgumentException>(() => TrainingLayouts.Dense(20, 3, 1, 1, hwc: false, paddedUnits: 32, blockUnits: 12));
        Assert.Throws<ArgumentException>(() => TrainingLayouts.Dense(20, 3, 1, 1, hwc: false, paddedUnits: 32, blockUnits: -8));
        Assert.Throws<ArgumentException>(() => TrainingLayouts.TransposeDense(new float[3 * 32], new float[20 * 3], 20, 32, 3, 1, 1, false, false, 3, 3, blockUnits: 12));
    }

    /// <summary>Unit blocks without the column split (the emitted block offsets need its output-vector loop) are a planner bug, refused by name.</summary>
    [Test]
    public void The_planner_refuses_unit_blocks_without_the_column_split()
    {
        var e = Assert.Throws<InvalidOperationException>(() => CnnGen.Generator.Planning.Passes.BackwardBuilder.CheckUnitBlocks("DenseFc1", columns: false, blockFloats: 784 * 16))!;
        Assert.That(e.Message, Does.Contain("DenseFc1").And.Contain("12544 floats").And.Contain("not split by columns"));
        Assert.That(() => CnnGen.Generator.Planning.Passes.BackwardBuilder.CheckUnitBlocks("DenseFc1", columns: true, blockFloats: 784 * 16), Throws.Nothing);
        Assert.That(() => CnnGen.Generator.Planning.Passes.BackwardBuilder.CheckUnitBlocks("DenseFc2", columns: false, blockFloats: 0), Throws.Nothing);
        Assert.That(() => CnnGen.Generator.Planning.Passes.BackwardBuilder.CheckUnitBlocks("DenseFc2", columns: true, blockFloats: 0), Throws.Nothing, "the split without blocks (not planned now) is not this check's");
    }

    [TestCaseSource(typeof(GeneratorHarness), nameof(GeneratorHarness.Widths))]
    public void A_threads_part_of_a_split_layer_is_one_contiguous_run_of_whole_blocks(VectorWidth width)
    {
        // ColumnSplitNet's "big": 136 units, 2,048 features; 9, 17 or 34 vectors: uneven among 2, 3 and 4 threads
        int v = (int)width / 32, vectors = (136 + v - 1) / v;
        foreach (int threads in new[] { 1, 2, 3, 4 })
        {
            using NetworkTrainer trainer = TrainingNetworks.Create("ColumnSplitNet", seed: 9, new TrainerOptions { VectorWidth = width, Threads = threads });
            foreach ((string name, int block) in new[] { ("big.weight", 2048 * v), ("big.bias", v) })
            {
                CnnGen.Training.Parameter p = trainer.Parameters.Single(q => q.Name == name);
                int next = 0;
                for (int t = 0; t < threads; t++)
                {
                    p.Part(t, threads, out int start, out int length);
                    int first = TrainingMath.VectorPart(vectors, t, threads), end = TrainingMath.VectorPart(vectors, t + 1, threads);
                    Assert.That((start, length), Is.EqualTo((first * block, (end - first) * block)), $"{width}, {name}, thread {t} of {threads}");
                    Assert.That(start, Is.EqualTo(next), "the parts follow each other");
                    next = start + length;
                }

                Assert.That(next, Is.EqualTo(p.PackedLength), $"{width}, {name}: the parts cover the buffer");
            }
        }
    }

    [TestCaseSource(typeof(GeneratorHarness), nameof(GeneratorHarness.Widths))]
    public void The_mlp_saves_and_loads_in_pytorch_layout_across_widths(VectorWidth width)
    {
        using var trainer = Mlp.Trainer.Create(seed: 5, new TrainerOptions { VectorWidth = width, Threads = 2 });
        CnnGen.Training.Parameter fc1 = trainer.Parameters.Single(p => p.Name == "fc1.weight");
        TensorSet saved = trainer.ToTensorSet();
        float[] pytorch = saved.Single(t => t.Name == "fc1.weight").Data.ToArray();
        Assert.That(saved.Single(t => t.Name == "fc1.weight").Shape.ToArray(), Is.EqualTo(new[] { 128, 784 }));

        // unit 37, feature 500 at block 37 / V, feature row 500, lane 37 % V
        int v = (int)width / 32;
        Assert.That(fc1.Value[(((37 / v) * 784) + 500) * v + (37 % v)], Is.EqualTo(pytorch[(37 * 784) + 500]), "fc1 packed in unit blocks");

        foreach (VectorWidth other in GeneratorHarness.Widths)
        {
            using var loaded = Mlp.Trainer.Load(saved, new TrainerOptions { VectorWidth = other, Threads = 3 });
            foreach ((Tensor a, Tensor b) in saved.Zip(loaded.ToTensorSet()))
            {
                Assert.That((b.Name, b.Data.ToArray()), Is.EqualTo((a.Name, a.Data.ToArray())), $"{width} saved, {other} loaded: {a.Name}");
            }
        }
    }

    [TestCaseSource(typeof(GeneratorHarness), nameof(GeneratorHarness.Widths))]
    public void The_mlp_on_2_and_3_threads_matches_1_thread(VectorWidth width)
    {
        // 11 images (not a multiple of the threads), two SGD momentum steps; fc1 reads the network input and is split
        float[] input = TrainingNetworks.Random(11 * 784, seed: 93, scale: 1f);
        int[] labels = Enumerable.Range(0, 11).Select(i => (i * 3) % 10).ToArray();
        (float[][] Values, float[][] Gradients) Run(int threads)
        {
            using var trainer = Mlp.Trainer.Create(seed: 3, new TrainerOptions { VectorWidth = width, Threads = threads });
            var sgd = new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 });
            (float[][], float[][]) result = default;
            for (int step = 0; step < 2; step++)
            {
                trainer.Step(input, labels, labels.Length, sgd);
                if (step == 0)
                {
                    result.Item2 = trainer.Parameters.Select(p => p.Gradient.ToArray()).ToArray();
                }
            }

            result.Item1 = trainer.Parameters.Select(p => p.Value.ToArray()).ToArray();
            Assert.That(trainer.Parameters.Single(p => p.Name == "fc1.weight").Layout!.PackedLength, Is.EqualTo(784 * 128));
            return result;
        }

        var one = Run(1);
        foreach (int threads in new[] { 2, 3 })
        {
            var other = Run(threads);
            // the first step's fc1 gradients: every thread sums its columns over the batch in the one-thread order
            Assert.That(other.Gradients[0], Is.EqualTo(one.Gradients[0]), $"{width}, {threads} threads: fc1.weight's gradient, bits");
            Assert.That(other.Gradients[1], Is.EqualTo(one.Gradients[1]), $"{width}, {threads} threads: fc1.bias's gradient, bits");
            for (int p = 0; p < one.Values.Length; p++)
            {
                Assert.That(other.Values[p], Is.EqualTo(one.Values[p]).Within(1e-5f), $"{width}, {threads} threads: parameter {p} after two steps");
            }
        }
    }
}
