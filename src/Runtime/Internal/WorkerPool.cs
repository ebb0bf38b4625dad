using System;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace CnnGen.Internal;

/// <summary>
/// A persistent pool of worker threads: created once, parked between jobs, and reused, so a job allocates nothing
/// (<c>Parallel.For</c> would). <see cref="Run(int, Action{int})"/> hands the same job to the first participants (the
/// calling thread is participant 0) and returns when all have finished; inside a job, <see cref="Barrier"/> waits until
/// every participant has reached it (the synchronization points of batch norm). A parked worker spins briefly, then
/// blocks on its event, so an idle pool burns no CPU. Used by a trainer (a pool of its own, a fixed count) and by
/// <see cref="Parallelism"/> (one for the process, grown to the largest count asked for).
/// </summary>
/// <remarks>
/// One job at a time: the caller of <see cref="Run(int, Action{int})"/> must own the pool until it returns. A pool made
/// with a spin time (a trainer's: back-to-back steps a few microseconds apart) keeps its workers polling for the next job
/// that long after each job before they block, and its caller spins (yielding) instead of blocking while it waits for
/// the workers: a step then pays no futex wake-up of a parked thread at either end.
/// </remarks>
internal sealed class WorkerPool : IDisposable
{
    private readonly string _name;
    private readonly ManualResetEventSlim _done = new(false);
    private readonly long _spinTicks;
    private Worker[] _workers = [];
    private Action<int>? _job;
    private int _participants;
    private int _pending;
    private int _arrived;
    private int _phase;
    private volatile bool _faulted;
    private volatile bool _stopping;
    private Exception? _error;

    /// <summary>Creates <paramref name="count"/> - 1 background threads; the caller of <see cref="Run(int, Action{int})"/> is participant 0.</summary>
    /// <param name="count">Participants, the calling thread included.</param>
    /// <param name="name">The thread names' prefix (<c>"{name} 1"</c>, ...).</param>
    /// <param name="spinMicroseconds">How long a worker polls for the next job before it blocks (0: the event's own short spin), and whether the caller spins while it waits.</param>
    public WorkerPool(int count, string name, int spinMicroseconds = 0)
    {
        _name = name;
        _spinTicks = spinMicroseconds * Stopwatch.Frequency / 1_000_000;
        Grow(count);
    }

    /// <summary>Participants, the calling thread included.</summary>
    public int Count => _workers.Length + 1;

    /// <summary>Bytes the worker threads have allocated, as of their last job (for the zero-allocation tests).</summary>
    public long WorkerAllocatedBytes
    {
        get
        {
            long sum = 0;
            foreach (Worker worker in _workers)
            {
                sum += Volatile.Read(ref worker.Allocated);
            }

            return sum;
        }
    }

    /// <summary>Adds threads until the pool has <paramref name="count"/> participants (never shrinks). Not during a job.</summary>
    public void Grow(int count)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (count <= Count)
        {
            return;
        }

        var workers = new Worker[count - 1];
        Array.Copy(_workers, workers, _workers.Length);
        for (int w = _workers.Length; w < workers.Length; w++)
        {
            var worker = new Worker(w + 1);
            worker.Thread = new Thread(() => Work(worker)) { IsBackground = true, Name = $"{_name} {w + 1}" };
            workers[w] = worker;
            worker.Thread.Start();
        }

        _workers = workers;
    }

    /// <summary>Runs <paramref name="job"/>(participant) on every participant and waits for all; rethrows the first failure.</summary>
    public void Run(Action<int> job) => Run(Count, job);

    /// <summary>
    /// Runs <paramref name="job"/>(participant) on participants 0 to <paramref name="participants"/> - 1 (0 on the calling
    /// thread) and waits for all; rethrows the first failure, with its own stack trace.
    /// </summary>
    public void Run(int participants, Action<int> job)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(participants, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(participants, Count);
        _job = job;
        _error = null;
        _faulted = false;
        _participants = participants;
        Volatile.Write(ref _arrived, participants);
        _done.Reset();
        Volatile.Write(ref _pending, participants - 1);
        for (int w = 0; w < participants - 1; w++)
        {
            Worker worker = _workers[w];
            Interlocked.Increment(ref worker.Jobs);
            if (Volatile.Read(ref worker.Sleeping) != 0)
            {
                worker.Start.Set();
            }
        }

        Execute(0);
        if (participants > 1)
        {
            if (_spinTicks > 0)
            {
                var spin = default(SpinWait);
                while (Volatile.Read(ref _pending) != 0)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                }
            }
            else
            {
                _done.Wait();
            }
        }

        _job = null;
        if (_error is { } error)
        {
            _error = null;
            ExceptionDispatchInfo.Capture(error).Throw();
        }
    }

    /// <summary>Waits until every participant of the job has called it (a sense-reversing barrier; spins, then yields).</summary>
    /// <exception cref="OperationCanceledException">Another participant failed; the job unwinds.</exception>
    public void Barrier()
    {
        int phase = Volatile.Read(ref _phase);
        if (Interlocked.Decrement(ref _arrived) == 0)
        {
            Volatile.Write(ref _arrived, _participants);
            Volatile.Write(ref _phase, phase + 1);
            return;
        }

        var spin = default(SpinWait);
        while (Volatile.Read(ref _phase) == phase)
        {
            if (_faulted)
            {
                throw new OperationCanceledException("another worker thread failed");
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
        foreach (Worker worker in _workers)
        {
            worker.Start.Set();
        }

        foreach (Worker worker in _workers)
        {
            worker.Thread!.Join();
            worker.Start.Dispose();
        }

        _done.Dispose();
    }

    private void Work(Worker worker)
    {
        int seen = 0;
        while (true)
        {
            WaitForJob(worker, seen);
            if (_stopping)
            {
                return;
            }

            seen++;
            Execute(worker.Participant);
            Volatile.Write(ref worker.Allocated, GC.GetAllocatedBytesForCurrentThread());
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _done.Set();
            }
        }
    }

    /// <summary>
    /// Waits until the worker's job count passes <paramref name="seen"/> (or the pool stops): polls for the pool's spin
    /// time, then blocks on the worker's event. <see cref="Run(int, Action{int})"/> sets the event only for a worker that
    /// said it sleeps; both sides publish with a full fence before reading the other's flag, so one of them sees the other.
    /// </summary>
    private void WaitForJob(Worker worker, int seen)
    {
        long deadline = Stopwatch.GetTimestamp() + _spinTicks;
        var spin = default(SpinWait);
        while (Volatile.Read(ref worker.Jobs) == seen && !_stopping)
        {
            if (_spinTicks > 0 && Stopwatch.GetTimestamp() < deadline)
            {
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            // ManualResetEventSlim spins a little before it blocks: back-to-back jobs wake fast, an idle pool sleeps.
            worker.Start.Reset();
            Interlocked.Exchange(ref worker.Sleeping, 1);
            if (Volatile.Read(ref worker.Jobs) == seen && !_stopping)
            {
                worker.Start.Wait();
            }

            Interlocked.Exchange(ref worker.Sleeping, 0);
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

    /// <summary>One background thread: its participant number, its start signal, and what it had allocated after its last job.</summary>
    private sealed class Worker(int participant)
    {
        public readonly int Participant = participant;
        public readonly ManualResetEventSlim Start = new(false);
        public Thread? Thread;
        public long Allocated;
        public int Jobs;
        public int Sleeping;
    }
}
