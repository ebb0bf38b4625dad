using System;

namespace CnnGen.Tests.Models;

/// <summary>Measures what a piece of code allocates once it has reached its steady state.</summary>
internal static class Allocations
{
    /// <summary>
    /// Runs <paramref name="iteration"/> <paramref name="warmup"/> times, then measures up to <paramref name="rounds"/> rounds of
    /// <paramref name="iterations"/> calls on this thread and returns the bytes of the cheapest round (0 ends early).
    /// </summary>
    /// <remarks>
    /// Why rounds: under tiered compilation the runtime compiles a hot loop on-stack (OSR) synchronously on the calling thread,
    /// and that compilation allocates a few hundred bytes once, at a moment that depends on how busy the background JIT is (in
    /// the full suite it landed at iteration 125 of 1,000). An allocation by the code itself happens on every call and so
    /// shows in every round; a one-off by the runtime shows in at most one.
    /// </remarks>
    public static long SteadyState(Action iteration, int warmup = 2000, int iterations = 500, int rounds = 3) =>
        SteadyState(iteration, GC.GetAllocatedBytesForCurrentThread, warmup, iterations, rounds);

    /// <summary>
    /// As <see cref="SteadyState(Action, int, int, int)"/>, measuring <paramref name="allocatedBytes"/> (a running count of
    /// bytes, e.g. what other threads report having allocated) instead of the calling thread's.
    /// </summary>
    public static long SteadyState(Action iteration, Func<long> allocatedBytes, int warmup = 2000, int iterations = 500, int rounds = 3)
    {
        for (int i = 0; i < warmup; i++)
        {
            iteration();
        }

        long least = long.MaxValue;
        for (int r = 0; r < rounds && least > 0; r++)
        {
            long before = allocatedBytes();
            for (int i = 0; i < iterations; i++)
            {
                iteration();
            }

            least = Math.Min(least, allocatedBytes() - before);
        }

        return least;
    }
}
