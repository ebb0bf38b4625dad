using System;
using System.Linq;
using System.Threading;
using CnnGen.Internal;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests.Models;

/// <summary>
/// <c>Predict(input, output, threads)</c> on the reference networks as compiled by the generator (the real splitting
/// thresholds): ResNet-8 and the VGG block split their convolutions and pools between the threads. The one-thread bits at
/// every width, nothing allocated per call, callers on several threads at once, a failing thread, and a step's kernels
/// with one image on the pool while a batch call holds it.
/// </summary>
public sealed class ImageThreadsTests
{
    private static CifarResNet8 ResNet8(VectorWidth width = VectorWidth.Auto) =>
        CifarResNet8.Load(Fixtures.Model("cifar_resnet8", "weights.safetensors"), new LoadOptions { VectorWidth = width });

    private static VggBlock Vgg(VectorWidth width = VectorWidth.Auto) =>
        VggBlock.Load(Fixtures.Model("vgg_block", "weights.safetensors"), new LoadOptions { VectorWidth = width });

    private static float[] Input(INetwork net, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, net.InputSize).Select(_ => (float)rng.NextDouble()).ToArray();
    }

    /// <summary>The one-thread output.</summary>
    private static float[] One(INetwork net, float[] input)
    {
        var output = new float[net.OutputSize];
        net.Predict(input, output);
        return output;
    }

    [TestCase(VectorWidth.V128)]
    [TestCase(VectorWidth.V256)]
    [TestCase(VectorWidth.V512)]
    public void Threads_give_the_one_thread_bits_and_match_the_golden_output(VectorWidth width)
    {
        foreach ((INetwork net, string model) in new (INetwork, string)[] { (ResNet8(width), "cifar_resnet8"), (Vgg(width), "vgg_block") })
        {
            var input = Fixtures.Floats(Fixtures.Model(model, "golden_input.bin")).AsMemory(0, net.InputSize);
            var golden = Fixtures.Floats(Fixtures.Model(model, "golden_output.bin")).AsSpan(0, net.OutputSize).ToArray();
            var expected = new float[net.OutputSize];
            net.Predict(input.Span, expected);
            foreach (int threads in new[] { 1, 2, 3, 4 })
            {
                var actual = Enumerable.Repeat(float.NaN, net.OutputSize).ToArray();
                net.Predict(input, actual, threads);
                Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)), $"{model} {width}, {threads} threads");
                for (int i = 0; i < golden.Length; i++)
                {
                    Assert.That(actual[i], Is.EqualTo(golden[i]).Within(1e-4 + (1e-4 * Math.Abs(golden[i]))), $"{model} {width}, {threads} threads, output {i}");
                }
            }
        }
    }

    [TestCase(2)]
    [TestCase(3)]
    public void Threads_allocate_nothing_per_call_in_steady_state(int threads)
    {
        INetwork net = ResNet8();
        var input = Input(net, 1).AsMemory();
        var output = new float[net.OutputSize].AsMemory();
        void Call() => net.Predict(input, output, threads);

        long caller = Allocations.SteadyState(Call, warmup: 300, iterations: 100);
        long workers = Allocations.SteadyState(Call, () => Parallelism.WorkerAllocatedBytes, warmup: 0, iterations: 100);
        // The whole process: other threads of the test host allocate now and then, so the cheapest of many short rounds.
        long total = Allocations.SteadyState(Call, () => GC.GetTotalAllocatedBytes(precise: true), warmup: 0, iterations: 30, rounds: 10);
        Assert.That(caller, Is.Zero, "bytes allocated by the calling thread");
        Assert.That(workers, Is.Zero, "bytes allocated by the pool's threads");
        Assert.That(total, Is.Zero, $"bytes allocated by the process ({total})");
        Assert.That(Parallelism.PoolThreads, Is.GreaterThanOrEqualTo(threads), "the calls ran on the pool");
    }

    [Test]
    public void Callers_on_several_threads_at_once_get_their_own_results()
    {
        // Four threads predict one image each on 2 or 3 threads, and one a batch on 2: one call at a time has the pool, the
        // others run alone on their thread (Predict) or on the .NET thread pool (PredictBatch); every result is the caller's own.
        INetwork net = ResNet8();
        const int callers = 4, calls = 60;
        var inputs = Enumerable.Range(0, callers).Select(c => Input(net, 10 + c)).ToArray();
        var expected = inputs.Select(i => One(net, i)).ToArray();
        var batch = inputs.SelectMany(i => i).ToArray();
        var batchExpected = expected.SelectMany(e => e).ToArray();
        var batchOutput = new float[callers * net.OutputSize];
        var failures = Callers.RunAtOnce(calls, Enumerable.Range(0, callers).Select(c =>
        {
            var output = new float[net.OutputSize];
            return ($"caller {c}", (Func<int, string?>)(i =>
            {
                Array.Fill(output, float.NaN);
                net.Predict(inputs[c], output, 2 + ((i + c) % 2));
                return output.AsSpan().SequenceEqual(expected[c]) ? null : "wrong outputs";
            }));
        }).Append(("batch caller", i =>
        {
            net.PredictBatch(batch, batchOutput, callers, 2);
            return batchOutput.AsSpan().SequenceEqual(batchExpected) ? null : "wrong outputs";
        })).ToArray());
        Assert.That(failures, Is.All.Null);
    }

    [Test]
    public void A_call_made_while_the_pool_is_busy_runs_on_its_own_thread_with_the_same_bits()
    {
        // A batch slice on the pool (this thread, holding it) predicts one image on 3 threads: it finds the pool busy and runs
        // the whole pass itself, its barriers returning at once.
        INetwork net = ResNet8();
        var input = Input(net, 3);
        var expected = One(net, input);
        var actual = new float[net.OutputSize];
        Parallelism.Split(2, 2, net, ReadOnlyMemory<float>.Empty, actual, static (n, _, outputs, start, _) =>
        {
            if (start == 0)
            {
                n.Predict(Inner, outputs, 3);
            }
        });
        Assert.That(actual, Is.EqualTo(expected));
    }

    private static readonly ReadOnlyMemory<float> Inner = Input(ResNet8(), 3);

    [TestCase(0)]
    [TestCase(1)]
    public void A_failing_thread_fails_the_call_with_its_exception_and_the_pool_keeps_working(int failing)
    {
        // Thread 0 is the calling thread, thread 1 one of the pool's; the other waits at a barrier and unwinds.
        var ex = Assert.Throws<InvalidOperationException>(() => Parallelism.Share(2, new Tag(failing), ReadOnlyMemory<float>.Empty, Memory<float>.Empty, [], Fail));
        Assert.That(ex!.Message, Is.EqualTo($"thread {failing} failed"));

        INetwork net = ResNet8();
        var input = Input(net, 4);
        var expected = One(net, input);
        var actual = new float[net.OutputSize];
        net.Predict(input, actual, 2);
        Assert.That(actual, Is.EqualTo(expected));
    }

    private static bool Fail(Tag tag, ref float input, ref float output, float[] workspace, int thread, int threads)
    {
        if (thread == (int)tag.Value)
        {
            throw new InvalidOperationException($"thread {thread} failed");
        }

        Parallelism.Barrier();
        return true;
    }

    private sealed record Tag(float Value);
}
