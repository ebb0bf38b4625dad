using System;
using System.Linq;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>
/// The learning-rate schedules against PyTorch's documented closed forms for t = 0..N, against hand values,
/// and against PyTorch 1.13's recursive <c>get_lr</c> (what <c>scheduler.step()</c> computes) evaluated here
/// step by step.
/// </summary>
[TestFixture]
public sealed class ScheduleTests
{
    private static double[] Values(LearningRateSchedule schedule, double baseLr, int count) =>
        Enumerable.Range(0, count).Select(t => schedule.LearningRate(baseLr, t)).ToArray();

    [Test]
    public void StepLR_multiplies_by_gamma_every_step_size()
    {
        Assert.That(Values(new StepLR(3, 0.1), 1.0, 8), Is.EqualTo(new[] { 1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01 }).Within(1e-15));
        for (int t = 0; t < 50; t++)
        {
            Assert.That(new StepLR(4, 0.5).LearningRate(0.2, t), Is.EqualTo(0.2 * Math.Pow(0.5, t / 4)), $"t={t}");
        }
    }

    [Test]
    public void CosineAnnealingLR_follows_the_closed_form_and_is_periodic()
    {
        var cosine = new CosineAnnealingLR(4, etaMin: 0);
        Assert.That(Values(cosine, 1.0, 9), Is.EqualTo(new[] { 1, 0.8535533905932737, 0.5, 0.14644660940672627, 0, 0.14644660940672627, 0.5, 0.8535533905932737, 1 }).Within(1e-15));
        var withMin = new CosineAnnealingLR(10, etaMin: 0.001);
        for (int t = 0; t <= 30; t++)
        {
            double closed = 0.001 + ((0.1 - 0.001) * (1 + Math.Cos(Math.PI * t / 10)) / 2);
            Assert.That(withMin.LearningRate(0.1, t), Is.EqualTo(closed), $"t={t}");
        }
    }

    [Test]
    public void LinearLR_ramps_from_start_factor_to_end_factor()
    {
        Assert.That(Values(new LinearLR(0.25, 1.0, 4), 1.0, 7), Is.EqualTo(new[] { 0.25, 0.4375, 0.625, 0.8125, 1, 1, 1 }).Within(1e-15));
        var defaults = new LinearLR();
        Assert.That(defaults.StartFactor, Is.EqualTo(1.0 / 3));
        Assert.That(defaults.TotalIters, Is.EqualTo(5));
        Assert.That(new LinearLR(0.5, 0.1, 2).LearningRate(2, 10), Is.EqualTo(0.2).Within(1e-15), "decays to the end factor and stays");
    }

    [Test]
    public void Warmup_then_cosine_restarts_the_cosine_counter_at_the_milestone()
    {
        SequentialLR schedule = LearningRateSchedule.WarmupCosine(warmupSteps: 3, startFactor: 0.1, cosineSteps: 4, etaMin: 0);
        double[] lr = Values(schedule, 1.0, 9);
        Assert.That(lr[..3], Is.EqualTo(new[] { 0.1, 0.4, 0.7 }).Within(1e-15), "LinearLR(0.1, 1, 3) before the milestone");
        Assert.That(lr[3..], Is.EqualTo(Values(new CosineAnnealingLR(4), 1.0, 6)), "CosineAnnealingLR(4) from t = 0 at the milestone");
    }

    [Test]
    public void SequentialLR_with_several_milestones_picks_the_right_schedule()
    {
        var schedule = new SequentialLR([new LinearLR(0.5, 1, 2), new StepLR(1, 0.5), new CosineAnnealingLR(2)], [2, 5]);
        double[] lr = Values(schedule, 1.0, 8);
        Assert.That(lr, Is.EqualTo(new[] { 0.5, 0.75, 1, 0.5, 0.25, 1, 0.5, 0 }).Within(1e-15));
    }

    [Test]
    public void Closed_forms_agree_with_PyTorchs_recursive_get_lr()
    {
        // PyTorch 1.13's scheduler.step() (chainable form), step by step in double.
        const double baseLr = 0.1;
        double step = baseLr, cosine = baseLr, linear = baseLr * 0.2;
        var stepLr = new StepLR(7, 0.3);
        var cosineLr = new CosineAnnealingLR(25, 0.002);
        var linearLr = new LinearLR(0.2, 0.9, 10);
        for (int t = 1; t <= 120; t++)
        {
            step = t % 7 == 0 ? step * 0.3 : step;
            cosine = (t - 1 - 25) % 50 == 0
                ? cosine + ((baseLr - 0.002) * (1 - Math.Cos(Math.PI / 25)) / 2)
                : ((1 + Math.Cos(Math.PI * t / 25)) / (1 + Math.Cos(Math.PI * (t - 1) / 25)) * (cosine - 0.002)) + 0.002;
            linear = t > 10 ? linear : linear * (1 + ((0.9 - 0.2) / ((10 * 0.2) + ((t - 1) * (0.9 - 0.2)))));
            Assert.That(stepLr.LearningRate(baseLr, t), Is.EqualTo(step).Within(1e-14 * baseLr), $"StepLR t={t}");
            Assert.That(cosineLr.LearningRate(baseLr, t), Is.EqualTo(cosine).Within(1e-13 * baseLr), $"CosineAnnealingLR t={t}");
            Assert.That(linearLr.LearningRate(baseLr, t), Is.EqualTo(linear).Within(1e-14 * baseLr), $"LinearLR t={t}");
        }
    }

    [Test]
    public void Scheduler_sets_the_optimizers_rate_at_construction_and_each_step()
    {
        var p = new Parameter("w", [1], new[] { 0f }, new[] { 0f });
        var sgd = new Sgd([p], new SgdOptions { LearningRate = 0.4 });
        var scheduler = new LearningRateScheduler(sgd, new LinearLR(0.5, 1, 2));
        Assert.That(sgd.LearningRate, Is.EqualTo(0.2), "t = 0 as PyTorch's constructor sets it");

        p.Gradient[0] = 1;
        sgd.Step();
        Assert.That(p.Value[0], Is.EqualTo(-0.2f), "the step used the scheduled rate");
        scheduler.Step();
        Assert.That(sgd.LearningRate, Is.EqualTo(0.30000000000000004));
        scheduler.Step();
        scheduler.Step();
        Assert.That((scheduler.LastEpoch, sgd.LearningRate), Is.EqualTo((3L, 0.4)));
        Assert.That(sgd.InitialLearningRate, Is.EqualTo(0.4), "the base never changes");

        scheduler.LastEpoch = 0;
        Assert.That(sgd.LearningRate, Is.EqualTo(0.2), "setting the counter (resume) sets the rate");
    }

    [Test]
    public void Invalid_schedules_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new StepLR(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new StepLR(1, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CosineAnnealingLR(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CosineAnnealingLR(5, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LinearLR(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LinearLR(0.5, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LinearLR(0.5, 1, 0));
        Assert.Throws<ArgumentException>(() => _ = new SequentialLR([new StepLR(1)], [3]));
        Assert.Throws<ArgumentException>(() => _ = new SequentialLR([new StepLR(1), new StepLR(1), new StepLR(1)], [3, 3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepLR(1).LearningRate(1, -1));
    }
}
