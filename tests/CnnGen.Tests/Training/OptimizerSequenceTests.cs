using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Training;
using static CnnGen.Tests.Training.OptimizerTestSupport;

namespace CnnGen.Tests.Training;

/// <summary>
/// Several steps of each optimizer: small sequences worked out by hand, then every option combination against
/// PyTorch's formula in double, then the vector loops against a scalar float32 evaluation of PyTorch's exact
/// operation order (bit for bit, at every length, so vector bodies and tails agree).
/// </summary>
[TestFixture]
public sealed class OptimizerSequenceTests
{
    private static Parameter Scalar(float value) => new("w", [1], new[] { value }, new[] { 0f });

    private static float[] Run(Optimizer opt, Parameter p, params float[] gradients)
    {
        var values = new List<float>();
        foreach (float g in gradients)
        {
            p.Gradient[0] = g;
            opt.Step();
            values.Add(p.Value[0]);
        }

        return values.ToArray();
    }

    [Test]
    public void Sgd_momentum_buffer_starts_as_the_gradient_then_accumulates()
    {
        // buf = 1, 0.9 * 1 + 1 = 1.9, 0.9 * 1.9 + 1 = 2.71; w = 1 - 0.1 * (1, 1.9, 2.71).
        Parameter p = Scalar(1f);
        float[] w = Run(new Sgd([p], new SgdOptions { LearningRate = 0.1, Momentum = 0.9 }), p, 1f, 1f, 1f);
        Assert.That(w, Is.EqualTo(new[] { 0.9f, 0.71f, 0.439f }).Within(1e-6f));
    }

    [Test]
    public void Sgd_dampening_applies_from_the_second_step()
    {
        // buf = 1 (a clone, no dampening), then 0.9 * 1 + 0.5 * 1 = 1.4, then 0.9 * 1.4 + 0.5 = 1.76.
        Parameter p = Scalar(0f);
        float[] w = Run(new Sgd([p], new SgdOptions { LearningRate = 1, Momentum = 0.9, Dampening = 0.5 }), p, 1f, 1f, 1f);
        Assert.That(w, Is.EqualTo(new[] { -1f, -2.4f, -4.16f }).Within(1e-6f));
    }

    [Test]
    public void Sgd_nesterov_steps_along_gradient_plus_momentum_times_buffer()
    {
        // buf = 1, d = 1 + 0.9 * 1 = 1.9; buf = 1.9, d = 1 + 0.9 * 1.9 = 2.71.
        Parameter p = Scalar(0f);
        float[] w = Run(new Sgd([p], new SgdOptions { LearningRate = 1, Momentum = 0.9, Nesterov = true }), p, 1f, 1f);
        Assert.That(w, Is.EqualTo(new[] { -1.9f, -4.61f }).Within(1e-6f));
    }

    [Test]
    public void Sgd_weight_decay_is_added_to_the_gradient()
    {
        // d = g + 0.1 * w = 0 + 0.1 * 2 = 0.2, w = 2 - 0.5 * 0.2 = 1.9; then 1.9 - 0.5 * 0.19 = 1.805.
        Parameter p = Scalar(2f);
        float[] w = Run(new Sgd([p], new SgdOptions { LearningRate = 0.5, WeightDecay = 0.1 }), p, 0f, 0f);
        Assert.That(w, Is.EqualTo(new[] { 1.9f, 1.805f }).Within(1e-6f));
    }

    [Test]
    public void Adam_bias_correction_makes_a_constant_gradient_step_by_lr()
    {
        // m_t = c (1 - b1^t), v_t = c^2 (1 - b2^t): after correction every step is lr * c / (|c| + eps).
        Parameter p = Scalar(0f);
        float[] w = Run(new Adam([p], new AdamOptions { LearningRate = 0.01 }), p, 0.5f, 0.5f, 0.5f, 0.5f);
        Assert.That(w, Is.EqualTo(new[] { -0.01f, -0.02f, -0.03f, -0.04f }).Within(1e-7f));
    }

    [Test]
    public void Adam_eps_dominates_a_tiny_gradient()
    {
        // g = 1e-8 = eps: the first step is lr * g / (|g| + eps) = lr / 2.
        Parameter p = Scalar(0f);
        float[] w = Run(new Adam([p], new AdamOptions { LearningRate = 1 }), p, 1e-8f);
        Assert.That(w[0], Is.EqualTo(-0.5f).Within(1e-6f));
    }

    [Test]
    public void Amsgrad_keeps_the_largest_second_moment()
    {
        // After a gradient of 10 then 0.1, v drops but max_exp_avg_sq keeps the first one, so the second step
        // is smaller with AMSGrad; the first step is identical.
        Parameter a = Scalar(0f), b = Scalar(0f);
        float[] plain = Run(new Adam([a], new AdamOptions { LearningRate = 0.1, Beta2 = 0.5 }), a, 10f, 0.1f);
        var ams = new Adam([b], new AdamOptions { LearningRate = 0.1, Beta2 = 0.5, AmsGrad = true });
        float[] withMax = Run(ams, b, 10f, 0.1f);
        Assert.That(withMax[0], Is.EqualTo(plain[0]));
        Assert.That(withMax[1] - withMax[0], Is.GreaterThan(plain[1] - plain[0]), "the second step (negative) is smaller in size");
        float[] max = ams.Buffers.Single(x => x.Name == "max_exp_avg_sq").Data.ToArray();
        float[] v = ams.Buffers.Single(x => x.Name == "exp_avg_sq").Data.ToArray();
        Assert.That(max[0], Is.EqualTo(50f), "0.5 * 100 after step 1, kept at step 2");
        Assert.That(v[0], Is.EqualTo(25.005f).Within(1e-4f), "0.5 * 50 + 0.5 * 0.01");

        // Worked out: m2 = 0.9*1 + 0.1*0.1 = 0.91, bc1 = 0.19, bc2 = 0.75: step 2 = -0.1 * (0.91/0.19) / (sqrt(50/0.75) + 1e-8).
        double expected = -0.1 * (0.91 / 0.19) / (Math.Sqrt(50 / 0.75) + 1e-8);
        Assert.That(withMax[1] - withMax[0], Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void Adam_weight_decay_is_L2_and_AdamW_is_decoupled()
    {
        // Zero gradient, w = 1, wd = 0.1, lr = 0.01. Adam: g = 0.1 so w moves by ~lr; AdamW: w *= 1 - 0.001 and no move.
        Parameter a = Scalar(1f), b = Scalar(1f);
        float[] adam = Run(new Adam([a], new AdamOptions { LearningRate = 0.01, WeightDecay = 0.1 }), a, 0f);
        float[] adamw = Run(new AdamW([b], new AdamWOptions { LearningRate = 0.01, WeightDecay = 0.1 }), b, 0f);
        Assert.That(adam[0], Is.EqualTo(0.99f).Within(1e-6f));
        Assert.That(adamw[0], Is.EqualTo(0.999f));
    }

    public static IEnumerable<TestCaseData> Configurations()
    {
        yield return new TestCaseData("sgd", new SgdOptions { LearningRate = 0.05 }).SetArgDisplayNames("sgd plain");
        yield return new TestCaseData("sgd", new SgdOptions { LearningRate = 0.05, Momentum = 0.9, WeightDecay = 5e-4 }).SetArgDisplayNames("sgd momentum wd");
        yield return new TestCaseData("sgd", new SgdOptions { LearningRate = 0.05, Momentum = 0.8, Dampening = 0.3 }).SetArgDisplayNames("sgd dampening");
        yield return new TestCaseData("sgd", new SgdOptions { LearningRate = 0.05, Momentum = 0.9, Nesterov = true, WeightDecay = 1e-3 }).SetArgDisplayNames("sgd nesterov wd");
        yield return new TestCaseData("adam", new AdamOptions()).SetArgDisplayNames("adam defaults");
        yield return new TestCaseData("adam", new AdamOptions { LearningRate = 3e-3, WeightDecay = 1e-2, Beta1 = 0.8, Beta2 = 0.99, Epsilon = 1e-6 }).SetArgDisplayNames("adam wd betas eps");
        yield return new TestCaseData("adam", new AdamOptions { AmsGrad = true, WeightDecay = 1e-3 }).SetArgDisplayNames("adam amsgrad wd");
        yield return new TestCaseData("adamw", new AdamWOptions()).SetArgDisplayNames("adamw defaults");
        yield return new TestCaseData("adamw", new AdamWOptions { AmsGrad = true, WeightDecay = 0.1, LearningRate = 1e-2 }).SetArgDisplayNames("adamw amsgrad");
    }

    public static Optimizer Create(string kind, object options, IReadOnlyList<Parameter> parameters) => kind switch
    {
        "sgd" => new Sgd(parameters, (SgdOptions)options),
        "adam" => new Adam(parameters, (AdamOptions)options),
        _ => new AdamW(parameters, (AdamWOptions)options),
    };

    [TestCaseSource(nameof(Configurations))]
    public void Eight_steps_follow_PyTorchs_formula_in_double(string kind, object options)
    {
        List<Parameter> parameters = Parameters(37, 16, 5);
        Optimizer opt = Create(kind, options, parameters);
        DoubleState[][] reference = parameters.Select(p => p.Value.ToArray().Select(v => new DoubleState { P = v }).ToArray()).ToArray();
        for (long t = 1; t <= 8; t++)
        {
            Gradients(parameters, t);
            opt.LearningRate = opt.InitialLearningRate * (1 - (0.05 * t));
            for (int k = 0; k < parameters.Count; k++)
            {
                for (int i = 0; i < parameters[k].PackedLength; i++)
                {
                    double g = parameters[k].Gradient[i];
                    switch (opt)
                    {
                        case Sgd s:
                            SgdStep(reference[k][i], g, t, opt.LearningRate, s.Options);
                            break;
                        case Adam a:
                            AdamStep(reference[k][i], g, t, opt.LearningRate, a.Options.Beta1, a.Options.Beta2, a.Options.Epsilon, a.Options.WeightDecay, a.Options.AmsGrad, decoupled: false);
                            break;
                        case AdamW w:
                            AdamStep(reference[k][i], g, t, opt.LearningRate, w.Options.Beta1, w.Options.Beta2, w.Options.Epsilon, w.Options.WeightDecay, w.Options.AmsGrad, decoupled: true);
                            break;
                    }
                }
            }

            opt.Step();
            for (int k = 0; k < parameters.Count; k++)
            {
                for (int i = 0; i < parameters[k].PackedLength; i++)
                {
                    double expected = reference[k][i].P;
                    Assert.That(parameters[k].Value[i], Is.EqualTo(expected).Within(2e-6 * Math.Max(1, Math.Abs(expected))), $"{kind} step {t} {parameters[k].Name}[{i}]");
                }
            }
        }

        Assert.That(opt.StepCount, Is.EqualTo(8));
    }

    [TestCaseSource(nameof(Configurations))]
    public void Vector_loops_equal_PyTorchs_operation_order_in_scalar_float_bit_for_bit(string kind, object options)
    {
        // Every length from 1 to 70 exercises vector bodies and scalar tails at every offset; the longer ones SGD's
        // two-pass blocks of 512 floats (momentum without Nesterov), alone and followed by the one-pass loop's tails.
        int[] lengths = Enumerable.Range(1, 70).Concat([511, 512, 513, 1024, 1040, 1553]).ToArray();
        List<Parameter> parameters = Parameters(lengths);
        Optimizer opt = Create(kind, options, parameters);
        float[][] p = Snapshot(parameters.Select(x => x.Value.ToArray()));
        float[][] b0 = lengths.Select(n => new float[n]).ToArray(), b1 = lengths.Select(n => new float[n]).ToArray(), b2 = lengths.Select(n => new float[n]).ToArray();
        for (long t = 1; t <= 4; t++)
        {
            Gradients(parameters, t);
            for (int k = 0; k < parameters.Count; k++)
            {
                for (int i = 0; i < lengths[k]; i++)
                {
                    float g = parameters[k].Gradient[i];
                    switch (opt)
                    {
                        case Sgd s:
                            SgdFloat(ref p[k][i], g, ref b0[k][i], t, opt.LearningRate, s.Options);
                            break;
                        case Adam a:
                            AdamFloat(ref p[k][i], g, ref b0[k][i], ref b1[k][i], ref b2[k][i], t, opt.LearningRate, a.Options.Beta1, a.Options.Beta2, a.Options.Epsilon, a.Options.WeightDecay, a.Options.AmsGrad, false);
                            break;
                        case AdamW w:
                            AdamFloat(ref p[k][i], g, ref b0[k][i], ref b1[k][i], ref b2[k][i], t, opt.LearningRate, w.Options.Beta1, w.Options.Beta2, w.Options.Epsilon, w.Options.WeightDecay, w.Options.AmsGrad, true);
                            break;
                    }
                }
            }

            opt.Step();
        }

        for (int k = 0; k < parameters.Count; k++)
        {
            AssertBitwiseEqual(parameters[k].Value, p[k], $"{kind} length {lengths[k]} value");
            OptimizerBuffer[] buffers = opt.Buffers.Where(x => x.Parameter == parameters[k]).ToArray();
            float[][] mine = [b0[k], b1[k], b2[k]];
            for (int j = 0; j < buffers.Length; j++)
            {
                AssertBitwiseEqual(buffers[j].Data, mine[j], $"{kind} length {lengths[k]} {buffers[j].Name}");
            }
        }
    }

    /// <summary>torch.optim.SGD, one element, float32: add(alpha) is a fused multiply-add (ATen's vectorized add), mul_ is a plain multiply.</summary>
    private static void SgdFloat(ref float p, float g, ref float buf, long t, double lr, SgdOptions o)
    {
        float d = o.WeightDecay != 0 ? MathF.FusedMultiplyAdd(p, (float)o.WeightDecay, g) : g;
        if (o.Momentum != 0)
        {
            buf = t == 1 ? d : MathF.FusedMultiplyAdd(d, (float)(1 - o.Dampening), buf * (float)o.Momentum);
            d = o.Nesterov ? MathF.FusedMultiplyAdd(buf, (float)o.Momentum, d) : buf;
        }

        p = MathF.FusedMultiplyAdd(d, (float)-lr, p);
    }

    /// <summary>torch.optim.Adam(W), one element, float32: addcmul_ and addcdiv_ as self + value * t1 * t2 and self + value * t1 / t2.</summary>
    private static void AdamFloat(ref float p, float g, ref float m, ref float v, ref float vmax, long t, double lr, double beta1, double beta2, double eps, double wd, bool amsgrad, bool decoupled)
    {
        if (decoupled)
        {
            p *= (float)(1 - (lr * wd));
        }
        else if (wd != 0)
        {
            g = MathF.FusedMultiplyAdd(p, (float)wd, g);
        }

        m = MathF.FusedMultiplyAdd(g, (float)(1 - beta1), m * (float)beta1);
        v = (v * (float)beta2) + ((float)(1 - beta2) * g * g);
        float second = v;
        if (amsgrad)
        {
            vmax = MathF.Max(vmax, v);
            second = vmax;
        }

        double stepSize = lr / (1 - Math.Pow(beta1, t));
        float denom = (MathF.Sqrt(second) / (float)Math.Sqrt(1 - Math.Pow(beta2, t))) + (float)eps;
        p += (float)-stepSize * m / denom;
    }
}
