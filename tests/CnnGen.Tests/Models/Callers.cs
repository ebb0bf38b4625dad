using System;
using System.Linq;
using System.Threading;

namespace CnnGen.Tests.Models;

/// <summary>Several callers at once, each on a thread of its own: what the concurrency tests of the thread pool share.</summary>
internal static class Callers
{
    /// <summary>
    /// Starts one thread per caller, all at once; caller <c>c</c> makes calls 0, 1, ... <paramref name="calls"/> - 1 of
    /// <c>callers[c]</c>, which returns null when the call's result was right and a message when not; a caller stops at
    /// its first failure or exception. Returns when every thread has finished: one entry per caller, null when all its
    /// calls were right.
    /// </summary>
    public static string?[] RunAtOnce(int calls, params (string Name, Func<int, string?> Call)[] callers)
    {
        var failures = new string?[callers.Length];
        var threads = callers.Select((caller, c) => new Thread(() =>
        {
            try
            {
                for (int i = 0; i < calls && failures[c] is null; i++)
                {
                    if (caller.Call(i) is string wrong)
                    {
                        failures[c] = $"{caller.Name}, call {i}: {wrong}";
                    }
                }
            }
            catch (Exception ex)
            {
                failures[c] = $"{caller.Name}: {ex}";
            }
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        foreach (var t in threads)
        {
            t.Join();
        }

        return failures;
    }
}
