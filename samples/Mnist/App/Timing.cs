using System;
using System.Diagnostics;
using System.Globalization;
using CnnGen;

namespace Mnist;

/// <summary>Measures time to first prediction: from process start (when Main is the process's entry) and from Main.</summary>
public sealed class StartupClock
{
    private static int s_mainCalls;
    private readonly long _mainStart;
    private readonly double? _processToMainMs;

    private StartupClock(long mainStart, double? processToMainMs)
    {
        _mainStart = mainStart;
        _processToMainMs = processToMainMs;
    }

    /// <summary>
    /// Call first thing in Main. With <paramref name="fromProcessStart"/>, the first call in a process also measures
    /// from the process start (later calls, e.g. from tests, cannot: the process did not start for them).
    /// </summary>
    public static StartupClock Start(bool fromProcessStart)
    {
        long now = Stopwatch.GetTimestamp();
        bool first = System.Threading.Interlocked.Increment(ref s_mainCalls) == 1;
        return new StartupClock(now, fromProcessStart && first ? MsFromProcessStart() : null);
    }

    /// <summary>Milliseconds since Main started.</summary>
    public double SinceMainMs => Stopwatch.GetElapsedTime(_mainStart).TotalMilliseconds;

    /// <summary>Milliseconds since the process started (runtime start-up included), when known.</summary>
    public double? SinceProcessStartMs => _processToMainMs is double d ? d + SinceMainMs : null;

    /// <summary>"23.4 ms after process start (9.1 ms after Main)", or only the part after Main when the start is unknown.</summary>
    public string Describe()
    {
        double main = SinceMainMs;
        return _processToMainMs is double d
            ? string.Create(CultureInfo.InvariantCulture, $"{d + main:F1} ms after process start ({main:F1} ms after Main)")
            : string.Create(CultureInfo.InvariantCulture, $"{main:F1} ms after Main");
    }

    private static double? MsFromProcessStart()
    {
        try
        {
            using Process self = Process.GetCurrentProcess();
            double ms = (DateTime.Now - self.StartTime).TotalMilliseconds;
            return ms >= 0 && ms < 60_000 ? ms : null;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or PlatformNotSupportedException
            or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}

/// <summary>Latency of single-image predictions.</summary>
public readonly record struct Latency(double MedianMicroseconds, double P10Microseconds, double P90Microseconds, int Runs);

public static class Timing
{
    /// <summary>
    /// Runs <paramref name="net"/> on the test digits in turn for at least <paramref name="warmupMs"/> (so the JIT
    /// has tiered up), then times <paramref name="runs"/> single-digit <c>Predict</c> calls one by one.
    /// </summary>
    public static Latency MeasureLatency(INetwork net, TestSet data, int runs, int warmupMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
        var output = new float[net.OutputSize];
        int n = data.Count;
        int k = 0;
        long warmStart = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(warmStart).TotalMilliseconds < warmupMs)
        {
            for (int j = 0; j < 64; j++, k++)
            {
                net.Predict(data.Input(k % n), output);
            }
        }

        var ticks = new long[runs];
        for (int r = 0; r < runs; r++, k++)
        {
            ReadOnlySpan<float> input = data.Input(k % n);
            long t0 = Stopwatch.GetTimestamp();
            net.Predict(input, output);
            ticks[r] = Stopwatch.GetTimestamp() - t0;
        }

        Array.Sort(ticks);
        double toUs = 1e6 / Stopwatch.Frequency;
        return new Latency(
            ticks[runs / 2] * toUs,
            ticks[runs / 10] * toUs,
            ticks[Math.Min(runs - 1, runs * 9 / 10)] * toUs,
            runs);
    }
}
