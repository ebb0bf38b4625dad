using System;
using System.ComponentModel;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace CnnGen.Internal;

/// <summary>
/// One thread's share of a batch whose memory and inputs were checked: <paramref name="count"/> images from image
/// <paramref name="start"/>. Generated networks keep one in a static field, so passing it allocates nothing. Not for direct use.
/// </summary>
/// <typeparam name="TNetwork">The generated network class.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate void BatchSlice<in TNetwork>(TNetwork network, ReadOnlyMemory<float> inputs, Memory<float> outputs, int start, int count)
    where TNetwork : class;

/// <summary>
/// Thread <paramref name="thread"/>'s share of one image's forward pass run by <paramref name="threads"/> threads together
/// (the generated kernel class's <c>Forward</c> overload for a thread); returns false when packing the input found NaN or
/// infinity. Generated networks keep one per width in a static field. Not for direct use.
/// </summary>
/// <typeparam name="TNetwork">The generated network class.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate bool ImageShare<in TNetwork>(TNetwork network, ref float input, ref float output, float[] workspace, int thread, int threads)
    where TNetwork : class;

/// <summary>
/// Splits a batch into contiguous slices, one per thread, and runs them on a persistent pool of threads. Not for direct use.
/// </summary>
/// <remarks>
/// <para>
/// The pool is the process's, shared by every network: background threads created on first use, grown to the largest
/// number of slices any call has needed (never shrunk), parked between calls (they spin briefly, then block, so an idle
/// process uses no CPU). The calling thread runs the first slice. The call's arguments are kept in static fields while it
/// runs, and the slice is a delegate the generated class caches, so a call allocates nothing in steady state.
/// </para>
/// <para>
/// One call uses the pool at a time. A call made while another holds it (another thread calling <c>PredictBatch</c>
/// with several threads at the same moment) does not wait and does not share the pool's threads: it runs its slices with
/// <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> on the .NET thread pool, which gives the same
/// slices and results and allocates about 2 KB for that call.
/// </para>
/// <para>
/// A slice that throws fails the call: the other slices finish, then the first failure is rethrown on the calling
/// thread as itself (not wrapped in an <see cref="AggregateException"/>), on either path; the pool stays usable.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Parallelism
{
    private static WorkerPool? s_pool;
    private static int s_busy;

    // The call the pool is running: written before its threads are woken (a full fence), read by every slice, cleared after.
    private static object? s_network;
    private static Delegate? s_slice;
    private static ReadOnlyMemory<float> s_inputs;
    private static Memory<float> s_outputs;
    private static int s_batchSize;
    private static int s_slices;

    // One image on several threads: the caller's workspace, the result of thread 0 and whether a thread stopped the call.
    private static float[]? s_workspace;
    private static bool s_finite;
    private static volatile bool s_stopped;

    /// <summary>The thread takes part in <see cref="Share"/> on the pool (its barriers wait for the others).</summary>
    [ThreadStatic]
    private static bool t_sharing;

    /// <summary>
    /// Calls <paramref name="slice"/>(network, inputs, outputs, start, count) for <paramref name="threads"/> contiguous
    /// slices of <paramref name="batchSize"/> images (fewer when the batch is smaller), in parallel, and returns when all
    /// have finished; one slice runs inline. Slice <c>t</c> of <c>n</c> starts at image <c>batchSize * t / n</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is less than 1.</exception>
    public static void Split<TNetwork>(int threads, int batchSize, TNetwork network, ReadOnlyMemory<float> inputs, Memory<float> outputs, BatchSlice<TNetwork> slice)
        where TNetwork : class
    {
        if (threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be at least 1");
        }

        int n = Math.Min(threads, Math.Max(batchSize, 1));
        if (n == 1)
        {
            slice(network, inputs, outputs, 0, batchSize);
            return;
        }

        if (Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            OnThreadPool(n, batchSize, network, inputs, outputs, slice);
            return;
        }

        try
        {
            WorkerPool pool = s_pool ??= new WorkerPool(n, "CnnGen batch thread");
            pool.Grow(n);
            s_network = network;
            s_slice = slice;
            s_inputs = inputs;
            s_outputs = outputs;
            s_batchSize = batchSize;
            s_slices = n;
            pool.Run(n, Slices<TNetwork>.Run);
        }
        finally
        {
            // Nothing of the call stays reachable from the pool.
            s_network = null;
            s_slice = null;
            s_inputs = default;
            s_outputs = default;
            Volatile.Write(ref s_busy, 0);
        }
    }

    /// <summary>
    /// Runs one image on <paramref name="threads"/> threads of the pool: each calls <paramref name="share"/>(network, input,
    /// output, workspace, thread, threads), the calling thread as thread 0, all on the caller's
    /// <paramref name="workspace"/>; the generated code splits its large steps between them and waits at
    /// <see cref="Barrier()"/> between dependent steps. Returns thread 0's result (false: the input holds NaN or infinity).
    /// With one thread, or while another call holds the pool, the calling thread runs the whole pass alone
    /// (<c>share(..., 0, 1)</c>: the same steps, the same bits, and its barriers return at once).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is less than 1.</exception>
    public static bool Share<TNetwork>(int threads, TNetwork network, ReadOnlyMemory<float> input, Memory<float> output, float[] workspace, ImageShare<TNetwork> share)
        where TNetwork : class
    {
        if (threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be at least 1");
        }

        if (threads == 1 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            return share(network, ref MemoryMarshal.GetReference(input.Span), ref MemoryMarshal.GetReference(output.Span), workspace, 0, 1);
        }

        try
        {
            WorkerPool pool = s_pool ??= new WorkerPool(threads, "CnnGen batch thread");
            pool.Grow(threads);
            s_network = network;
            s_slice = share;
            s_inputs = input;
            s_outputs = output;
            s_workspace = workspace;
            s_slices = threads;
            s_finite = false;
            s_stopped = false;
            pool.Run(threads, Shares<TNetwork>.Run);
            return s_finite;
        }
        finally
        {
            s_network = null;
            s_slice = null;
            s_inputs = default;
            s_outputs = default;
            s_workspace = null;
            Volatile.Write(ref s_busy, 0);
        }
    }

    /// <summary>A thread's own scratch for the steps it shares (<see cref="Scratch"/>), grown once to the largest asked for.</summary>
    [ThreadStatic]
    private static float[]? t_scratch;

    /// <summary>
    /// Scratch floats for a step that threads sharing an image split (a Winograd convolution's transformed tiles): thread 0
    /// uses the workspace's own, <paramref name="shared"/>; any other thread an array of its own, allocated the first time
    /// a thread needs it (or more of it) and kept for the thread's life, so later calls allocate nothing.
    /// </summary>
    public static ref float Scratch(int thread, ref float shared, int floats)
    {
        if (thread == 0)
        {
            return ref shared;
        }

        float[]? own = t_scratch;
        if (own is null || own.Length < floats)
        {
            t_scratch = own = GC.AllocateUninitializedArray<float>(floats);
        }

        return ref MemoryMarshal.GetArrayDataReference(own);
    }

    /// <summary>
    /// Inside <see cref="Share"/>: waits until every thread of the image has reached it (what one step wrote is then
    /// visible to all). Returns at once on a thread running a pass alone.
    /// </summary>
    /// <exception cref="OperationCanceledException">Another thread of the image failed; this one unwinds.</exception>
    public static void Barrier()
    {
        if (t_sharing)
        {
            s_pool!.Barrier();
        }
    }

    /// <summary>
    /// <see cref="Barrier()"/>, and whether every thread passed true: each thread passes whether the input rows it packed
    /// were finite (a thread that packed none, true), so that every thread stops before anything is written to the output
    /// when one was not.
    /// </summary>
    public static bool Barrier(bool ok)
    {
        if (!t_sharing)
        {
            return ok;
        }

        if (!ok)
        {
            s_stopped = true;
        }

        s_pool!.Barrier();
        return !s_stopped;
    }

    /// <summary>The threads of the process's pool (the calling thread included); 0 before the first parallel call.</summary>
    internal static int PoolThreads => s_pool?.Count ?? 0;

    /// <summary>Bytes the pool's threads have allocated, as of their last slice (for the zero-allocation tests).</summary>
    internal static long WorkerAllocatedBytes => s_pool?.WorkerAllocatedBytes ?? 0;

    /// <summary>Slice <paramref name="t"/> of <paramref name="n"/> of a batch: its first image and its image count.</summary>
    private static (int Start, int Count) Bounds(int batchSize, int n, int t)
    {
        int begin = (int)((long)batchSize * t / n), end = (int)((long)batchSize * (t + 1) / n);
        return (begin, end - begin);
    }

    /// <summary>The same slices on the .NET thread pool, for a call that found the pool busy.</summary>
    private static void OnThreadPool<TNetwork>(int n, int batchSize, TNetwork network, ReadOnlyMemory<float> inputs, Memory<float> outputs, BatchSlice<TNetwork> slice)
        where TNetwork : class
    {
        try
        {
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = n }, t =>
            {
                var (start, count) = Bounds(batchSize, n, t);
                slice(network, inputs, outputs, start, count);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    /// <summary>The pool's job of one image on several threads, for one network class (a static delegate reading the call from the fields).</summary>
    private static class Shares<TNetwork>
        where TNetwork : class
    {
        public static readonly Action<int> Run = t =>
        {
            t_sharing = true;
            try
            {
                bool finite = ((ImageShare<TNetwork>)s_slice!)(
                    (TNetwork)s_network!, ref MemoryMarshal.GetReference(s_inputs.Span), ref MemoryMarshal.GetReference(s_outputs.Span), s_workspace!, t, s_slices);
                if (t == 0)
                {
                    s_finite = finite;
                }
            }
            finally
            {
                t_sharing = false;
            }
        };
    }

    /// <summary>The pool's job for one network class: a static delegate reading the call from the fields.</summary>
    private static class Slices<TNetwork>
        where TNetwork : class
    {
        public static readonly Action<int> Run = t =>
        {
            var (start, count) = Bounds(s_batchSize, s_slices, t);
            ((BatchSlice<TNetwork>)s_slice!)((TNetwork)s_network!, s_inputs, s_outputs, start, count);
        };
    }
}
