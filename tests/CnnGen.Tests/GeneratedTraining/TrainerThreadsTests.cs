using System;
using System.Linq;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Models;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// Threads and memory: the same step on 1 and 2 threads agrees within 1e-5 (batch-norm statistics bit for bit: they are
/// combined in image order whatever the thread count), the same thread count gives the same bits on every run, and a
/// step allocates nothing after the first of its batch size, on the calling thread and on the trainer's worker threads
/// (each reports its <see cref="GC.GetAllocatedBytesForCurrentThread"/>; <see cref="GC.GetTotalAllocatedBytes"/> is no
/// measure here: the test host's own threads allocate a few hundred bytes in any interval).
/// </summary>
[TestFixture]
public sealed class TrainerThreadsTests
{
    public static readonly string[] Networks = GoldenTrainers.Networks;

    private static (float[] Input, int[] Labels) Batch(string network, int images)
    {
        TrainingGolden golden = GoldenTrainers.Golden(network);
        (float[] input, int[] labels, int n) = golden.Batch(0);
        (float[] input1, int[] labels1, _) = golden.Batch(1);
        float[] all = input.Concat(input1).ToArray();
        int[] allLabels = labels.Concat(labels1).ToArray();
        int size = input.Length / n;
        return (all.Take(images * size).ToArray(), allLabels.Take(images).ToArray());
    }

    [TestCaseSource(nameof(Networks))]
    public void One_and_two_threads_agree_and_each_repeats_bit_for_bit(string network)
    {
        TrainingGolden golden = GoldenTrainers.Golden(network);
        (float[] input, int[] labels) = Batch(network, 13);

        // One pass: the gradients within 1e-5, the batch-norm statistics bit for bit, whatever the thread count.
        (float[][] Gradients, TensorSet State) Pass(int threads)
        {
            using NetworkTrainer trainer = GoldenTrainers.Load(network, golden.Init, VectorWidth.Auto, threads);
            trainer.ComputeGradients(input, labels, labels.Length);
            return (trainer.Parameters.Select(p => p.Gradient.ToArray()).ToArray(), trainer.ToTensorSet());
        }

        var one = Pass(1);
        foreach (int threads in new[] { 2, 3 })
        {
            var other = Pass(threads);
            for (int k = 0; k < one.Gradients.Length; k++)
            {
                Training.TrainingGolden.AssertClose(other.Gradients[k], one.Gradients[k], 1e-5, $"{network}: {threads} threads vs 1, gradient {k}");
            }

            foreach (Tensor t in one.State.Where(t => t.Name.Contains("running_", StringComparison.Ordinal)))
            {
                Assert.That(other.State.Get(t.Name).Data.ToArray(), Is.EqualTo(t.Data.ToArray()), $"{t.Name}: batch statistics do not depend on the thread count");
            }
        }

        // Steps: the same thread count gives the same bits on every run.
        int[] Steps(int threads)
        {
            using NetworkTrainer trainer = GoldenTrainers.Load(network, golden.Init, VectorWidth.Auto, threads);
            var sgd = new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 });
            for (int i = 0; i < 3; i++)
            {
                trainer.Step(input, labels, labels.Length, sgd);
            }

            return TrainingNetworks.Bits(trainer, sgd);
        }

        foreach (int threads in new[] { 1, 2 })
        {
            int[] first = Steps(threads), second = Steps(threads);
            Assert.That(second, Is.EqualTo(first), $"{threads} threads, run twice");
        }
    }

    [TestCaseSource(nameof(Networks))]
    public void Steps_allocate_nothing_after_the_first(string network)
    {
        TrainingGolden golden = GoldenTrainers.Golden(network);
        (float[] input, int[] labels) = Batch(network, 16);
        foreach ((int threads, bool span) in new[] { (1, false), (2, false), (1, true), (2, true) })
        {
            using NetworkTrainer trainer = GoldenTrainers.Load(network, golden.Init, VectorWidth.Auto, threads);
            var adam = new Adam(trainer.Parameters, new AdamOptions { LearningRate = 1e-4 });
            string path = span ? "span" : "array";
            // Warm up past tiered compilation (the JIT's background thread allocates when it recompiles a hot method), then
            // the cheapest of three rounds (Allocations.SteadyState: on-stack replacement compiles on the running thread and
            // allocates there once, later when the machine is busy; one round of 10 steps failed once for cifar_resnet8_bn in
            // a full suite on a loaded machine and passed alone). An allocation by the step itself shows in every round.
            // Both overloads: the array's (memory: each thread copies its own images) and the span's (the caller copies).
            void Step()
            {
                if (span)
                {
                    trainer.Step(input.AsSpan(), labels.AsSpan(), labels.Length, adam);
                }
                else
                {
                    trainer.Step(input, labels, labels.Length, adam);
                }
            }

            long thread = Allocations.SteadyState(Step, warmup: 40, iterations: 10);
            long workers = Allocations.SteadyState(Step, () => trainer.WorkerAllocatedBytes, warmup: 0, iterations: 10);

            Assert.That(thread, Is.Zero, $"{network}, {threads} threads, {path}: bytes allocated on the calling thread");
            Assert.That(workers, Is.Zero, $"{network}, {threads} threads, {path}: bytes allocated by the worker threads");
        }
    }
}
