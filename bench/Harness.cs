using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading;

namespace CnnGen.Bench;

/// <summary>Median and minimum of per-call times, as ../shared/peers/ort_bench.js measures them.</summary>
internal readonly record struct Timing(double MedianUs, double MinUs, int Iterations);

/// <summary>Times one action: warm up, then time every call until both a duration and an iteration count are reached.</summary>
internal static class Timer
{
    /// <summary>
    /// Warm-up: at least 3 calls and 0.8 s (ort_bench.js: 0.5 s), in 4 rounds with 50 ms sleeps so the tiered JIT can
    /// finish. Then every call is timed on its own with
    /// Stopwatch.GetTimestamp until <paramref name="seconds"/> have passed and at least <paramref name="minIterations"/> calls ran.
    /// The sample buffer is allocated before the timed loop, so the harness allocates nothing while timing.
    /// </summary>
    public static Timing Measure(Action call, double seconds, int minIterations)
    {
        // Warm-up in rounds separated by short sleeps: pinned to one core, the tiered JIT's background thread
        // only gets the core when the benchmark yields it, and without the sleeps small non-AggressiveOptimization
        // helpers the kernels call stay at Tier0 for seconds (lenet5 b1 7.6 us instead of 6.5 us).
        for (int round = 0; round < 4; round++)
        {
            long warmEnd = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 5;
            for (int n = 0; n < 3 || Stopwatch.GetTimestamp() < warmEnd; n++)
            {
                call();
            }

            Thread.Sleep(100);
        }

        // Estimate the call time to size the sample buffer (no growth inside the timed loop).
        long t0 = Stopwatch.GetTimestamp();
        call();
        long one = Math.Max(1, Stopwatch.GetTimestamp() - t0);
        long budget = (long)(seconds * Stopwatch.Frequency);
        int capacity = (int)Math.Min(50_000_000, Math.Max(minIterations, budget / one * 4 + 1024));
        var samples = new long[capacity];

        int count = 0;
        long start = Stopwatch.GetTimestamp();
        long end = start + budget;
        while (count < capacity)
        {
            long a = Stopwatch.GetTimestamp();
            call();
            long b = Stopwatch.GetTimestamp();
            samples[count++] = b - a;
            if (count >= minIterations && b >= end)
            {
                break;
            }
        }

        Array.Sort(samples, 0, count);
        double toUs = 1e6 / Stopwatch.Frequency;
        return new Timing(samples[count >> 1] * toUs, samples[0] * toUs, count);
    }
}

/// <summary>Vector256 and Vector512 FMA throughput of this core: independent accumulator chains, 2 FLOPs per lane.</summary>
internal static class FmaPeak
{
    /// <summary>Best of several 50 ms runs, in GFLOP/s.</summary>
    public static double Measure256()
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            return double.NaN;
        }

        Loop256(1000); // JIT
        double best = 0;
        const long iters = 2_000_000;
        for (int rep = 0; rep < 8; rep++)
        {
            long t = Stopwatch.GetTimestamp();
            float sink = Loop256(iters);
            double s = (Stopwatch.GetTimestamp() - t) / (double)Stopwatch.Frequency;
            GC.KeepAlive(sink);
            best = Math.Max(best, 2.0 * 8 * 12 * iters / s / 1e9);
        }

        return best;
    }

    /// <summary>Best of several 50 ms runs, in GFLOP/s.</summary>
    public static double Measure512()
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            return double.NaN;
        }

        Loop512(1000);
        double best = 0;
        const long iters = 1_000_000;
        for (int rep = 0; rep < 8; rep++)
        {
            long t = Stopwatch.GetTimestamp();
            float sink = Loop512(iters);
            double s = (Stopwatch.GetTimestamp() - t) / (double)Stopwatch.Frequency;
            GC.KeepAlive(sink);
            best = Math.Max(best, 2.0 * 16 * 24 * iters / s / 1e9);
        }

        return best;
    }

    /// <summary>12 independent chains of Vector256 FMAs (enough to cover 2 pipes x 4-cycle latency with margin; 14 registers).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long iters)
    {
        var m = Vector256.Create(0.9999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        Vector256<float> a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iters; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c);
            a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c);
            a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c);
            a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c);
            a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c);
            a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c);
            a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }

        var s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return Vector256.Sum(s);
    }

    /// <summary>24 independent chains of Vector512 FMAs (26 of the 32 ZMM registers).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long iters)
    {
        var m = Vector512.Create(0.9999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        Vector512<float> a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        Vector512<float> b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0;
        Vector512<float> b6 = a0, b7 = a0, b8 = a0, b9 = a0, b10 = a0, b11 = a0;
        for (long i = 0; i < iters; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c);
            a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c);
            a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c);
            a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c);
            a11 = Vector512.FusedMultiplyAdd(a11, m, c);
            b0 = Vector512.FusedMultiplyAdd(b0, m, c);
            b1 = Vector512.FusedMultiplyAdd(b1, m, c);
            b2 = Vector512.FusedMultiplyAdd(b2, m, c);
            b3 = Vector512.FusedMultiplyAdd(b3, m, c);
            b4 = Vector512.FusedMultiplyAdd(b4, m, c);
            b5 = Vector512.FusedMultiplyAdd(b5, m, c);
            b6 = Vector512.FusedMultiplyAdd(b6, m, c);
            b7 = Vector512.FusedMultiplyAdd(b7, m, c);
            b8 = Vector512.FusedMultiplyAdd(b8, m, c);
            b9 = Vector512.FusedMultiplyAdd(b9, m, c);
            b10 = Vector512.FusedMultiplyAdd(b10, m, c);
            b11 = Vector512.FusedMultiplyAdd(b11, m, c);
        }

        var s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
            + b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8 + b9 + b10 + b11;
        return Vector512.Sum(s);
    }
}

/// <summary>
/// Splits a batch across N threads: N-1 dedicated workers plus the calling thread, each calling PredictBatch on its
/// slice. Uses a Barrier, so a run allocates nothing; each thread records the bytes it allocated.
/// With <c>generated</c> set, a run instead calls the generated PredictBatch(ReadOnlyMemory, Memory, batchSize, threads)
/// overload (Parallel.For over contiguous slices) from the calling thread.
/// A batch of one image on several threads calls the generated Predict(ReadOnlyMemory, Memory, threads): the threads
/// share the image (each large layer's rows split between them).
/// </summary>
internal sealed class BatchRunner : IDisposable
{
    private readonly INetwork _net;
    private readonly float[] _inputs;
    private readonly float[] _outputs;
    private readonly int _batch;
    private readonly int _threads;
    private readonly Barrier _start;
    private readonly Barrier _done;
    private readonly Thread[] _workers;
    private readonly long[] _allocated;
    private readonly bool _generated;
    private readonly bool _image;
    private volatile bool _stop;

    public BatchRunner(INetwork net, float[] inputs, float[] outputs, int batch, int threads, bool generated = false)
    {
        _net = net;
        _inputs = inputs;
        _outputs = outputs;
        _batch = batch;
        _image = batch == 1 && threads > 1;
        _threads = _image ? threads : Math.Clamp(threads, 1, batch);
        _generated = (generated && batch > 1) || _image;
        _allocated = new long[_threads];
        _start = new Barrier(_threads);
        _done = new Barrier(_threads);
        _workers = new Thread[_generated ? 0 : _threads - 1];
        for (int t = 1; t < _threads && !_generated; t++)
        {
            int id = t;
            _workers[t - 1] = new Thread(() => WorkerLoop(id)) { IsBackground = true, Name = "bench-worker-" + id };
            _workers[t - 1].Start();
        }
    }

    /// <summary>Threads actually used (at most the batch size, or the threads sharing one image).</summary>
    public int Threads => _threads;

    /// <summary>Bytes allocated by all threads inside PredictBatch since the last <see cref="ResetAllocated"/>.</summary>
    public long Allocated
    {
        get
        {
            long sum = 0;
            foreach (long a in _allocated)
            {
                sum += a;
            }

            return sum;
        }
    }

    public void ResetAllocated() => Array.Clear(_allocated);

    /// <summary>One batched call: every thread runs its slice; returns when all are done.</summary>
    public void Run()
    {
        if (_generated)
        {
            // Counts the calling thread's allocations only (the pool threads' are not visible here).
            long before = GC.GetAllocatedBytesForCurrentThread();
            if (_image)
            {
                _net.Predict(_inputs, _outputs, _threads);
            }
            else
            {
                _net.PredictBatch(_inputs, _outputs, _batch, _threads);
            }

            _allocated[0] += GC.GetAllocatedBytesForCurrentThread() - before;
            return;
        }

        if (_threads == 1)
        {
            RunSlice(0);
            return;
        }

        _start.SignalAndWait();
        RunSlice(0);
        _done.SignalAndWait();
    }

    private void WorkerLoop(int id)
    {
        while (true)
        {
            _start.SignalAndWait();
            if (_stop)
            {
                return;
            }

            RunSlice(id);
            _done.SignalAndWait();
        }
    }

    private void RunSlice(int id)
    {
        int begin = (int)((long)_batch * id / _threads), end = (int)((long)_batch * (id + 1) / _threads);
        int n = end - begin;
        int inSize = _net.InputSize, outSize = _net.OutputSize;
        var input = new ReadOnlySpan<float>(_inputs, begin * inSize, n * inSize);
        var output = new Span<float>(_outputs, begin * outSize, n * outSize);
        long before = GC.GetAllocatedBytesForCurrentThread();
        if (_batch == 1)
        {
            _net.Predict(input, output);
        }
        else
        {
            _net.PredictBatch(input, output, n);
        }

        _allocated[id] += GC.GetAllocatedBytesForCurrentThread() - before;
    }

    public void Dispose()
    {
        if (_threads > 1 && !_generated)
        {
            _stop = true;
            _start.SignalAndWait();
            foreach (var w in _workers)
            {
                w.Join();
            }
        }

        _start.Dispose();
        _done.Dispose();
    }
}
