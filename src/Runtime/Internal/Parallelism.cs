using System;
using System.ComponentModel;
using System.Threading.Tasks;

namespace CnnGen.Internal;

/// <summary>Splits a batch into contiguous slices, one per thread. Not for direct use.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Parallelism
{
    /// <summary>
    /// Calls <paramref name="slice"/>(start, count) for <paramref name="threads"/> contiguous slices of
    /// <paramref name="batchSize"/> items, in parallel; one thread (or a batch of one) runs inline.
    /// </summary>
    public static void Split(int threads, int batchSize, Action<int, int> slice)
    {
        if (threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be at least 1");
        }

        int n = Math.Min(threads, Math.Max(batchSize, 1));
        if (n == 1)
        {
            slice(0, batchSize);
            return;
        }

        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = n }, t =>
        {
            int begin = (int)((long)batchSize * t / n), end = (int)((long)batchSize * (t + 1) / n);
            slice(begin, end - begin);
        });
    }
}
