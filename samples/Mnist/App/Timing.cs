using System;
using System.Diagnostics;
using System.Globalization;
using CnnGen;

namespace Mnist;

/// <summary>
/// Measures time to first prediction with a Stopwatch started first thing in Main. The runtime's own start-up
/// before Main is not included (the process start time the OS reports has only 10 ms resolution); to measure from
/// process launch, time the whole process from outside, as scripts/aot-smoke.sh does with <c>classify</c>.
/// </summary>
public sealed class StartupClock
{
    private readonly long _mainStart;

    private StartupClock(long mainStart) => _mainStart = mainStart;

    /// <summary>Call first thing in Main.</summary>
    public static StartupClock Start() => new(Stopwatch.GetTimestamp());

    /// <summary>Milliseconds since Main started.</summary>
    public double SinceMainMs => Stopwatch.GetElapsedTime(_mainStart).TotalMilliseconds;

    /// <summary>"9.1 ms after Main started".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"{SinceMainMs:F1} ms after Main started");
}

/// <summary>Latency of single-image predictions.</summary>
public readonly record struct Latency(double MedianMicroseconds, double P10Microseconds, double P90Microseconds, int Runs);

public static class Timing
{
    /// <summary>
    /// Runs <paramref name="net"/> on the test digits in turn for at least <paramref name="warmupMs"/> (so the JIT
    /// has tiered up), then times <paramref name="runs"/> single-digit <c>Predict</c> calls one by one.
    /// </summary>
    public static Latency MeasureLatency(INetwork net, DigitSet data, int runs, int warmupMs)
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
