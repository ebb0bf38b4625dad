using System;
using System.Collections.Generic;
using System.Linq;

namespace CnnGen.Training;

/// <summary>
/// A learning-rate schedule: the learning rate as a pure function of the base learning rate and a counter
/// <c>t</c> (PyTorch's <c>last_epoch</c>: 0 at the start, plus one per <c>scheduler.step()</c>). Each schedule
/// is PyTorch 1.13's closed form (<c>_get_closed_form_lr</c>), evaluated in double in the same order; PyTorch's
/// default recursive update agrees with it to a few units in the last place of a double, far below what
/// reaches a float32 weight. Whether <c>t</c> counts epochs or batches is the caller's choice (see
/// <see cref="LearningRateScheduler"/>).
/// </summary>
public abstract class LearningRateSchedule
{
    private protected LearningRateSchedule()
    {
    }

    /// <summary>The learning rate at counter <paramref name="t"/>.</summary>
    /// <param name="baseLearningRate">The optimizer's initial learning rate (PyTorch's <c>initial_lr</c>).</param>
    /// <param name="t">The counter, 0 or more.</param>
    /// <returns>The learning rate.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is negative.</exception>
    public double LearningRate(double baseLearningRate, long t)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(t);
        return Compute(baseLearningRate, t);
    }

    /// <summary>Linear warm-up over <paramref name="warmupSteps"/> then cosine annealing over <paramref name="cosineSteps"/>: <c>SequentialLR([LinearLR, CosineAnnealingLR], [warmupSteps])</c>.</summary>
    /// <param name="warmupSteps">The length of the warm-up (LinearLR's <c>total_iters</c> and the milestone).</param>
    /// <param name="startFactor">The warm-up's first factor (LinearLR's <c>start_factor</c>), in (0, 1].</param>
    /// <param name="cosineSteps">The cosine's <c>T_max</c>, counted from the end of the warm-up.</param>
    /// <param name="etaMin">The cosine's minimum learning rate.</param>
    /// <returns>The composed schedule.</returns>
    public static SequentialLR WarmupCosine(long warmupSteps, double startFactor, long cosineSteps, double etaMin = 0) =>
        new([new LinearLR(startFactor, 1.0, warmupSteps), new CosineAnnealingLR(cosineSteps, etaMin)], [warmupSteps]);

    /// <summary>The learning rate at counter <paramref name="t"/> (known to be non-negative).</summary>
    private protected abstract double Compute(double baseLearningRate, long t);
}

/// <summary>
/// PyTorch's <c>StepLR(step_size, gamma=0.1)</c>: <c>lr = base_lr * gamma ** (t // step_size)</c>.
/// </summary>
public sealed class StepLR : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="stepSize">The period of the decay, positive.</param>
    /// <param name="gamma">The factor applied every <paramref name="stepSize"/> (finite, non-negative).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public StepLR(long stepSize, double gamma = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepSize);
        Optimizer.CheckRange(gamma, 0, double.MaxValue, false, "gamma", nameof(gamma));
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>The period of the decay.</summary>
    public long StepSize { get; }

    /// <summary>The decay factor.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    private protected override double Compute(double baseLearningRate, long t) => baseLearningRate * Math.Pow(Gamma, t / StepSize);
}

/// <summary>
/// PyTorch's <c>CosineAnnealingLR(T_max, eta_min=0)</c>:
/// <c>lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2</c> (periodic beyond <c>T_max</c>, as PyTorch's is).
/// </summary>
public sealed class CosineAnnealingLR : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="tMax">The half period, positive.</param>
    /// <param name="etaMin">The minimum learning rate (finite, non-negative).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public CosineAnnealingLR(long tMax, double etaMin = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tMax);
        Optimizer.CheckRange(etaMin, 0, double.MaxValue, false, "eta_min", nameof(etaMin));
        TMax = tMax;
        EtaMin = etaMin;
    }

    /// <summary>The half period (PyTorch's <c>T_max</c>).</summary>
    public long TMax { get; }

    /// <summary>The minimum learning rate.</summary>
    public double EtaMin { get; }

    /// <inheritdoc/>
    private protected override double Compute(double baseLearningRate, long t) =>
        EtaMin + ((baseLearningRate - EtaMin) * (1 + Math.Cos(Math.PI * t / TMax)) / 2);
}

/// <summary>
/// PyTorch's <c>LinearLR(start_factor=1/3, end_factor=1, total_iters=5)</c>, a linear warm-up:
/// <c>lr = base_lr * (start_factor + (end_factor - start_factor) * min(total_iters, t) / total_iters)</c>.
/// </summary>
public sealed class LinearLR : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="startFactor">The factor at <c>t = 0</c>, in (0, 1].</param>
    /// <param name="endFactor">The factor from <c>t = totalIters</c> on, in [0, 1].</param>
    /// <param name="totalIters">The length of the ramp, positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public LinearLR(double startFactor = 1.0 / 3, double endFactor = 1.0, long totalIters = 5)
    {
        if (!(startFactor > 0 && startFactor <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, "The start factor must be in (0, 1], as in PyTorch.");
        }

        Optimizer.CheckRange(endFactor, 0, 1, false, "The end factor", nameof(endFactor));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalIters);
        StartFactor = startFactor;
        EndFactor = endFactor;
        TotalIters = totalIters;
    }

    /// <summary>The factor at <c>t = 0</c>.</summary>
    public double StartFactor { get; }

    /// <summary>The factor from <see cref="TotalIters"/> on.</summary>
    public double EndFactor { get; }

    /// <summary>The length of the ramp.</summary>
    public long TotalIters { get; }

    /// <inheritdoc/>
    private protected override double Compute(double baseLearningRate, long t) =>
        baseLearningRate * (StartFactor + ((EndFactor - StartFactor) * Math.Min(TotalIters, t) / TotalIters));
}

/// <summary>
/// PyTorch's <c>SequentialLR(schedulers, milestones)</c>: schedule <c>i</c> runs from milestone <c>i - 1</c>
/// (0 for the first) with its own counter restarting at 0, so with one milestone <c>M</c> the rate is
/// <c>first(t)</c> for <c>t &lt; M</c> and <c>second(t - M)</c> afterwards.
/// </summary>
public sealed class SequentialLR : LearningRateSchedule
{
    private readonly LearningRateSchedule[] _schedules;
    private readonly long[] _milestones;

    /// <summary>Creates the composition.</summary>
    /// <param name="schedules">The schedules, one more than <paramref name="milestones"/>.</param>
    /// <param name="milestones">Where each next schedule starts, positive and strictly increasing.</param>
    /// <exception cref="ArgumentException">The counts do not match or the milestones are not positive and increasing.</exception>
    public SequentialLR(IReadOnlyList<LearningRateSchedule> schedules, IReadOnlyList<long> milestones)
    {
        ArgumentNullException.ThrowIfNull(schedules);
        ArgumentNullException.ThrowIfNull(milestones);
        if (schedules.Count != milestones.Count + 1 || schedules.Any(s => s is null))
        {
            throw new ArgumentException($"SequentialLR needs one more schedule than milestones; it got {schedules.Count} schedules and {milestones.Count} milestones.", nameof(schedules));
        }

        for (int i = 0; i < milestones.Count; i++)
        {
            if (milestones[i] <= (i == 0 ? 0 : milestones[i - 1]))
            {
                throw new ArgumentException("The milestones must be positive and strictly increasing.", nameof(milestones));
            }
        }

        _schedules = schedules.ToArray();
        _milestones = milestones.ToArray();
    }

    /// <summary>The schedules, in order.</summary>
    public IReadOnlyList<LearningRateSchedule> Schedules => _schedules;

    /// <summary>The milestones.</summary>
    public IReadOnlyList<long> Milestones => _milestones;

    /// <inheritdoc/>
    private protected override double Compute(double baseLearningRate, long t)
    {
        int i = 0;
        while (i < _milestones.Length && t >= _milestones[i])
        {
            i++;
        }

        return _schedules[i].LearningRate(baseLearningRate, i == 0 ? t : t - _milestones[i - 1]);
    }
}

/// <summary>
/// Drives an optimizer's learning rate from a schedule, like a PyTorch scheduler object: the constructor sets
/// the rate for <c>t = 0</c>, each <see cref="Step"/> advances <c>t</c> and sets the next rate. Call it once
/// per epoch or once per batch, as the schedule is meant. The base rate is the optimizer's
/// <see cref="Optimizer.InitialLearningRate"/>. To resume, set <see cref="LastEpoch"/> to the saved value
/// (store it with <see cref="Optimizer.SaveState(System.IO.Stream, IReadOnlyDictionary{string, string}?)"/>'s extra metadata).
/// </summary>
public sealed class LearningRateScheduler
{
    private long _lastEpoch;

    /// <summary>Creates the scheduler and sets the optimizer's learning rate for <c>t = 0</c>.</summary>
    /// <param name="optimizer">The optimizer to drive.</param>
    /// <param name="schedule">The schedule.</param>
    public LearningRateScheduler(Optimizer optimizer, LearningRateSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(schedule);
        Optimizer = optimizer;
        Schedule = schedule;
        LastEpoch = 0;
    }

    /// <summary>The optimizer whose learning rate is set.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The schedule.</summary>
    public LearningRateSchedule Schedule { get; }

    /// <summary>The counter <c>t</c> (PyTorch's <c>last_epoch</c>); setting it sets the optimizer's learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long LastEpoch
    {
        get => _lastEpoch;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Optimizer.LearningRate = Schedule.LearningRate(Optimizer.InitialLearningRate, value);
            _lastEpoch = value;
        }
    }

    /// <summary>Advances the counter by one and sets the optimizer's learning rate (PyTorch's <c>scheduler.step()</c>).</summary>
    public void Step() => LastEpoch = _lastEpoch + 1;
}
