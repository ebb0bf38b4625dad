using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace CnnGen.Training;

/// <summary>
/// A persistent pool of worker threads for a trainer's steps: created once, parked between jobs, and reused, so a step
/// allocates nothing (<c>Parallel.For</c> would). <see cref="Run"/> hands the same job to every participant (the calling
/// thread is participant 0) and returns when all have finished; inside a job, <see cref="Barrier"/> waits until every
/// participant has reached it (the synchronization points of batch norm).
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly int _count;
    private readonly Thread[] _workers;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false);
    private readonly long[] _allocated;
    private Action<int>? _job;
    private int _pending;
    private int _arrived;
    private int _phase;
    private volatile bool _faulted;
    private volatile bool _stopping;
    private Exception? _error;

    /// <summary>Creates <paramref name="count"/> - 1 background threads; the caller of <see cref="Run"/> is the last participant.</summary>
    public WorkerPool(int count, string name)
    {
        _count = count;
        _arrived = count;
        _workers = new Thread[count - 1];
        _start = new ManualResetEventSlim[count - 1];
        _allocated = new long[count - 1];
        for (int w = 0; w < _workers.Length; w++)
        {
            _start[w] = new ManualResetEventSlim(false);
            int participant = w + 1;
            _workers[w] = new Thread(() => Work(participant)) { IsBackground = true, Name = $"{name} trainer thread {participant}" };
            _workers[w].Start();
        }
    }

    /// <summary>Participants, the calling thread included.</summary>
    public int Count => _count;

    /// <summary>Bytes the worker threads have allocated, as of their last job (for the zero-allocation tests).</summary>
    public long WorkerAllocatedBytes
    {
        get
        {
            long sum = 0;
            for (int w = 0; w < _allocated.Length; w++)
            {
                sum += Volatile.Read(ref _allocated[w]);
            }

            return sum;
        }
    }

    /// <summary>Runs <paramref name="job"/>(participant) on every participant and waits for all; rethrows the first failure.</summary>
    public void Run(Action<int> job)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        _job = job;
        _error = null;
        _faulted = false;
        Volatile.Write(ref _arrived, _count);
        _done.Reset();
        Volatile.Write(ref _pending, _workers.Length);
        foreach (ManualResetEventSlim start in _start)
        {
            start.Set();
        }

        Execute(0);
        _done.Wait();
        _job = null;
        if (_error is { } error)
        {
            ExceptionDispatchInfo.Capture(error).Throw();
        }
    }

    /// <summary>Waits until every participant has called it (a sense-reversing barrier; spins, then yields).</summary>
    /// <exception cref="OperationCanceledException">Another participant failed; the job unwinds.</exception>
    public void Barrier()
    {
        int phase = Volatile.Read(ref _phase);
        if (Interlocked.Decrement(ref _arrived) == 0)
        {
            Volatile.Write(ref _arrived, _count);
            Volatile.Write(ref _phase, phase + 1);
            return;
        }

        var spin = default(SpinWait);
        while (Volatile.Read(ref _phase) == phase)
        {
            if (_faulted)
            {
                throw new OperationCanceledException("another trainer thread failed");
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Stops the threads (after the current job, if any).</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        foreach (ManualResetEventSlim start in _start)
        {
            start.Set();
        }

        foreach (Thread worker in _workers)
        {
            worker.Join();
        }

        foreach (ManualResetEventSlim start in _start)
        {
            start.Dispose();
        }

        _done.Dispose();
    }

    private void Work(int participant)
    {
        ManualResetEventSlim start = _start[participant - 1];
        while (true)
        {
            start.Wait();
            start.Reset();
            if (_stopping)
            {
                return;
            }

            Execute(participant);
            Volatile.Write(ref _allocated[participant - 1], GC.GetAllocatedBytesForCurrentThread());
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _done.Set();
            }
        }
    }

    private void Execute(int participant)
    {
        try
        {
            _job!(participant);
        }
        catch (Exception ex)
        {
            _faulted = true;
            lock (_done)
            {
                // The first real failure wins over the cancellations it causes in the other participants.
                if (_error is null || (_error is OperationCanceledException && ex is not OperationCanceledException))
                {
                    _error = ex;
                }
            }
        }
    }
}
