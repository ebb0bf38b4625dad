using System;
using System.Linq;
using System.Threading;
using CnnGen.Internal;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests.Models;

/// <summary>
/// <c>PredictBatch(..., threads)</c> on the process's pool of threads (<see cref="Parallelism"/>): nothing allocated per
/// call on the calling thread or the pool's threads, the one-thread bits for every batch size and thread count, callers on
/// several threads at once, and a failing slice.
/// </summary>
public sealed class BatchThreadsTests
{
    private static LeNet5 LeNet() => LeNet5.Load(Fixtures.Model("lenet5", "weights.safetensors"));

    private static Mlp Mlp() => Networks.Mlp.Load(Fixtures.Model("mlp", "weights.safetensors"));

    [TestCase(2)]
    [TestCase(3)]
    public void Threads_allocate_nothing_per_call_in_steady_state(int threads)
    {
        var (images, _) = Fixtures.MnistTest();
        const int n = 7;
        var inputs = images.AsMemory(0, n * 784);
        var outputs = new float[n * 10].AsMemory();
        foreach (INetwork net in new INetwork[] { LeNet(), Mlp() })
        {
            void Call() => net.PredictBatch(inputs, outputs, n, threads);

            long caller = Allocations.SteadyState(Call, warmup: 500, iterations: 200);
            long workers = Allocations.SteadyState(Call, () => Parallelism.WorkerAllocatedBytes, warmup: 0, iterations: 200);
            string what = $"{net.GetType().Name}, {threads} threads, 200 calls";

            // The whole process: the test host's own threads allocate now and then, so the cheapest of more rounds.
            long total = Allocations.SteadyState(Call, () => GC.GetTotalAllocatedBytes(precise: true), warmup: 0, iterations: 200, rounds: 5);
            Assert.That(caller, Is.Zero, $"{what}: bytes allocated by the calling thread");
            Assert.That(workers, Is.Zero, $"{what}: bytes allocated by the pool's threads");
            Assert.That(total, Is.Zero, $"{what}: bytes allocated by the process");
            Assert.That(Parallelism.PoolThreads, Is.GreaterThanOrEqualTo(threads), "the calls ran on the pool");
        }
    }

    [Test]
    public void Every_batch_size_and_thread_count_gives_the_one_thread_bits()
    {
        var (images, _) = Fixtures.MnistTest();
        foreach (INetwork net in new INetwork[] { LeNet(), Mlp() })
        {
            for (int n = 0; n <= 19; n++)
            {
                var inputs = images.AsMemory(n * 784, n * 784); // a different stretch of images for each size
                var expected = new float[n * 10];
                net.PredictBatch(inputs.Span, expected, n);
                for (int threads = 1; threads <= 4; threads++)
                {
                    var actual = Enumerable.Repeat(float.NaN, n * 10).ToArray();
                    net.PredictBatch(inputs, actual, n, threads);
                    Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)),
                        $"{net.GetType().Name}, batch {n}, {threads} threads");
                }
            }
        }
    }

    [Test]
    public void Callers_on_several_threads_at_once_get_their_own_results()
    {
        // Four threads call PredictBatch with 2 or 3 threads each, on two networks and different batches: one call at a
        // time has the pool, the others run on the .NET thread pool; every result must be the caller's own.
        var (images, _) = Fixtures.MnistTest();
        INetwork[] nets = { LeNet(), Mlp() };
        const int callers = 4, calls = 150;
        var expected = new float[callers][];
        for (int c = 0; c < callers; c++)
        {
            int n = 5 + c;
            expected[c] = new float[n * 10];
            nets[c % 2].PredictBatch(images.AsSpan(c * 100 * 784, n * 784), expected[c], n);
        }

        var failures = Callers.RunAtOnce(calls, Enumerable.Range(0, callers).Select(c =>
        {
            int n = 5 + c;
            var output = new float[n * 10];
            return ($"caller {c}", (Func<int, string?>)(i =>
            {
                Array.Fill(output, float.NaN);
                nets[c % 2].PredictBatch(images.AsMemory(c * 100 * 784, n * 784), output, n, 2 + (i + c) % 2);
                return output.AsSpan().SequenceEqual(expected[c]) ? null : "wrong outputs";
            }));
        }).ToArray());
        Assert.That(failures, Is.All.Null);
    }

    [Test]
    public void A_call_made_while_the_pool_is_busy_runs_its_own_slices_and_leaves_the_first_intact()
    {
        // The first slice of the outer call (on this thread, holding the pool) makes a whole call of its own: it finds the
        // pool busy and runs on the .NET thread pool. Both calls must see only their own arguments.
        var outer = new float[12];
        Parallelism.Split(3, 12, new Tag(1), ReadOnlyMemory<float>.Empty, outer, static (tag, _, outputs, start, count) =>
        {
            if (start == 0)
            {
                Parallelism.Split(2, 10, new Tag(100), ReadOnlyMemory<float>.Empty, Inner, Fill);
            }

            Fill(tag, ReadOnlyMemory<float>.Empty, outputs, start, count);
        });
        Assert.That(outer, Is.EqualTo(Enumerable.Range(0, 12).Select(i => 1f + i)));
        Assert.That(Inner.ToArray(), Is.EqualTo(Enumerable.Range(0, 10).Select(i => 100f + i)));
    }

    /// <summary>The inner call's outputs (a static lambda cannot capture a local).</summary>
    private static readonly Memory<float> Inner = new float[10];

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    public void A_failing_slice_fails_the_call_with_its_exception_and_the_pool_keeps_working(int failing)
    {
        // Slice 0 runs on the calling thread, the others on the pool's threads.
        var outputs = new float[9];
        var ex = Assert.Throws<InvalidOperationException>(() =>
            Parallelism.Split(3, 9, new Tag(failing), ReadOnlyMemory<float>.Empty, outputs, static (tag, _, _, start, _) =>
            {
                if (start / 3 == (int)tag.Value)
                {
                    throw new InvalidOperationException($"slice {start / 3} failed");
                }
            }));
        Assert.That(ex!.Message, Is.EqualTo($"slice {failing} failed"));

        // The pool still runs whole calls, and a network's batches, correctly.
        Parallelism.Split(3, 9, new Tag(0), ReadOnlyMemory<float>.Empty, outputs, Fill);
        Assert.That(outputs, Is.EqualTo(Enumerable.Range(0, 9).Select(i => (float)i)));
        var (images, _) = Fixtures.MnistTest();
        var net = LeNet();
        var expected = new float[50];
        net.PredictBatch(images.AsSpan(0, 5 * 784), expected, 5);
        var actual = new float[50];
        net.PredictBatch(images.AsMemory(0, 5 * 784), actual, 5, 3);
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void Threads_below_one_are_refused_and_a_small_batch_uses_fewer_threads()
    {
        var outputs = new float[2];
        Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.Split(0, 2, new Tag(0), ReadOnlyMemory<float>.Empty, outputs, Fill));
        int calls = 0;
        Parallelism.Split(8, 2, new Tag(0), ReadOnlyMemory<float>.Empty, outputs, (_, _, _, _, count) =>
        {
            Assert.That(count, Is.EqualTo(1));
            Interlocked.Increment(ref calls);
        });
        Assert.That(calls, Is.EqualTo(2), "two images: two slices of one, not eight");
    }

    /// <summary>Writes tag + image index into each output of the slice.</summary>
    private static void Fill(Tag tag, ReadOnlyMemory<float> inputs, Memory<float> outputs, int start, int count)
    {
        for (int i = start; i < start + count; i++)
        {
            outputs.Span[i] = tag.Value + i;
        }
    }

    private sealed record Tag(float Value);
}
