using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>
/// The optimizers against PyTorch's training goldens: the first step of each optimizer on every network from
/// init + the batch-0 gradients, against the documented formula evaluated in double; and the full 3-step golden
/// on the MLP, whose gradients a small double-precision backward in this file computes.
/// </summary>
[TestFixture]
public sealed class PyTorchGoldenTests
{
    [TestCaseSource(typeof(TrainingGolden), nameof(TrainingGolden.Cases))]
    public void First_step_from_init_and_batch0_gradients_matches_the_formula_in_double(string network, string optimizer)
    {
        List<Parameter> parameters = TrainingGolden.DenseParameters(network);
        TensorSet grads = TrainingGolden.Load(network, "grads.safetensors");
        foreach (Parameter p in parameters)
        {
            grads.Get(p.Name).Data.CopyTo(p.Gradient);
        }

        Dictionary<string, float[]> before = parameters.ToDictionary(p => p.Name, p => p.Value.ToArray());
        Optimizer opt = TrainingGolden.Create(network, optimizer, parameters);
        opt.Step();

        (string cls, Dictionary<string, string> a) = TrainingGolden.ParseOptimizer(TrainingGolden.OptimizerText(network, optimizer));
        Assert.That(cls, Is.EqualTo(opt.Name));
        double lr = double.Parse(a["lr"], System.Globalization.CultureInfo.InvariantCulture);
        int compared = 0;
        foreach (Parameter p in parameters)
        {
            float[] p0 = before[p.Name];
            for (int i = 0; i < p0.Length; i++)
            {
                double w = p0[i], g = p.Gradient[i];
                double expected = opt switch
                {
                    // SGD, step 1: buf = clone(g + wd * w); w - lr * buf.
                    Sgd s => w - (lr * (g + (s.Options.WeightDecay * w))),

                    // Adam, step 1: m = (1-b1) g, v = (1-b2) g^2, bias corrections (1-b1), (1-b2).
                    Adam s => AdamFirstStep(w, g + (s.Options.WeightDecay * w), lr, s.Options.Beta1, s.Options.Beta2, s.Options.Epsilon),

                    // AdamW, step 1: w (1 - lr wd) first, then the Adam update.
                    AdamW s => AdamFirstStep(w * (1 - (lr * s.Options.WeightDecay)), g, lr, s.Options.Beta1, s.Options.Beta2, s.Options.Epsilon),
                    _ => throw new AssertionException("unknown optimizer"),
                };

                // 1e-6 relative to the larger of the weight before and after (a step can cancel most of a weight).
                double scale = Math.Max(Math.Abs(expected), Math.Abs(w));
                Assert.That(Math.Abs(p.Value[i] - expected), Is.LessThanOrEqualTo(1e-6 * scale), $"{p.Name}[{i}]: {p.Value[i]:R} vs {expected:R}");
                compared++;
            }
        }

        Assert.That(compared, Is.EqualTo(grads.Sum(t => t.Length)));
    }

    [Test]
    public void Mlp_reference_backward_reproduces_PyTorchs_batch0_loss_and_gradients()
    {
        List<Parameter> parameters = TrainingGolden.DenseParameters("mlp");
        (float[] input, int[] labels, _) = TrainingGolden.Batch("mlp", 0);
        double loss = new MlpBackward(parameters).Run(input, labels);
        Assert.That(loss, Is.EqualTo(TrainingGolden.Json("mlp").GetProperty("batch0_loss").GetDouble()).Within(1e-6));
        TensorSet grads = TrainingGolden.Load("mlp", "grads.safetensors");
        foreach (Parameter p in parameters)
        {
            TrainingGolden.AssertClose(p.Gradient, grads.Get(p.Name).Data, 1e-5, $"d loss / d {p.Name}");
        }
    }

    [TestCase("sgd")]
    [TestCase("adam")]
    [TestCase("adamw")]
    public void Mlp_three_steps_match_PyTorch(string optimizer)
    {
        List<Parameter> parameters = TrainingGolden.DenseParameters("mlp");
        var backward = new MlpBackward(parameters);
        OptimizerGolden.Run("mlp", optimizer, parameters, (_, input, labels) => backward.Run(input, labels));
    }

    [TestCase("sgd")]
    [TestCase("adam")]
    [TestCase("adamw")]
    public void Mlp_three_steps_match_PyTorch_with_padded_packed_parameters(string optimizer)
    {
        // The same golden through a layout like the kernels': every row padded to a multiple of 16 floats.
        List<Parameter> dense = TrainingGolden.DenseParameters("mlp");
        List<Parameter> packed = dense.Select(p => PaddedLayouts.RowPadded(p.Name, p.Shape.ToArray(), 16)).ToList();
        var backward = new MlpBackward(dense);
        OptimizerGolden.Run("mlp", optimizer, packed, (_, input, labels) =>
        {
            for (int k = 0; k < dense.Count; k++)
            {
                packed[k].ToPyTorch(packed[k].Value, dense[k].Value);
            }

            double loss = backward.Run(input, labels);
            for (int k = 0; k < dense.Count; k++)
            {
                packed[k].FromPyTorch(dense[k].Gradient, packed[k].Gradient);
            }

            return loss;
        });
        foreach (Parameter p in packed)
        {
            PaddedLayouts.AssertPaddingZero(p);
        }
    }

    private static double AdamFirstStep(double w, double g, double lr, double beta1, double beta2, double eps)
    {
        double m = (1 - beta1) * g;
        double v = (1 - beta2) * g * g;
        double denom = (Math.Sqrt(v) / Math.Sqrt(1 - beta2)) + eps;
        return w - (lr / (1 - beta1) * m / denom);
    }

    /// <summary>
    /// The MLP of ../shared/training/mlp (flatten, fc1 784-128 + ReLU, fc2 128-64 + ReLU, fc3 64-10), mean
    /// cross-entropy, forward and backward in double from the definitions; writes the gradients (rounded to
    /// float) into the parameters' gradient buffers.
    /// </summary>
    private sealed class MlpBackward
    {
        private readonly Parameter[] _p;

        public MlpBackward(IReadOnlyList<Parameter> parameters)
        {
            string[] names = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"];
            _p = names.Select(n => parameters.Single(p => p.Name == n)).ToArray();
        }

        public double Run(float[] input, int[] labels)
        {
            int n = labels.Length;
            double[] x = input.Select(v => (double)v).ToArray();
            double[] h1 = Dense(x, n, 784, 128, _p[0], _p[1], relu: true);
            double[] h2 = Dense(h1, n, 128, 64, _p[2], _p[3], relu: true);
            double[] z = Dense(h2, n, 64, 10, _p[4], _p[5], relu: false);
            double loss = 0;
            var dz = new double[n * 10];
            for (int b = 0; b < n; b++)
            {
                double max = z.Skip(b * 10).Take(10).Max();
                double sum = 0;
                for (int k = 0; k < 10; k++)
                {
                    sum += Math.Exp(z[(b * 10) + k] - max);
                }

                loss += Math.Log(sum) + max - z[(b * 10) + labels[b]];
                for (int k = 0; k < 10; k++)
                {
                    dz[(b * 10) + k] = ((Math.Exp(z[(b * 10) + k] - max) / sum) - (k == labels[b] ? 1 : 0)) / n;
                }
            }

            double[] dh2 = Back(dz, h2, n, 64, 10, _p[4], _p[5], reluOutput: h2);
            double[] dh1 = Back(dh2, h1, n, 128, 64, _p[2], _p[3], reluOutput: h1);
            Back(dh1, x, n, 784, 128, _p[0], _p[1], reluOutput: null);
            return loss / n;
        }

        private static double[] Dense(double[] x, int n, int fanIn, int fanOut, Parameter w, Parameter bias, bool relu)
        {
            var y = new double[n * fanOut];
            for (int b = 0; b < n; b++)
            {
                for (int o = 0; o < fanOut; o++)
                {
                    double s = bias.Value[o];
                    for (int i = 0; i < fanIn; i++)
                    {
                        s += w.Value[(o * fanIn) + i] * x[(b * fanIn) + i];
                    }

                    y[(b * fanOut) + o] = relu ? Math.Max(s, 0) : s;
                }
            }

            return y;
        }

        /// <summary>Given d loss / d y, writes d/dW and d/db and returns d loss / d x (times ReLU's mask when x is a ReLU output).</summary>
        private static double[] Back(double[] dy, double[] x, int n, int fanIn, int fanOut, Parameter w, Parameter bias, double[]? reluOutput)
        {
            var dx = new double[n * fanIn];
            for (int o = 0; o < fanOut; o++)
            {
                double db = 0;
                for (int b = 0; b < n; b++)
                {
                    db += dy[(b * fanOut) + o];
                }

                bias.Gradient[o] = (float)db;
                for (int i = 0; i < fanIn; i++)
                {
                    double dw = 0;
                    for (int b = 0; b < n; b++)
                    {
                        dw += dy[(b * fanOut) + o] * x[(b * fanIn) + i];
                        dx[(b * fanIn) + i] += dy[(b * fanOut) + o] * w.Value[(o * fanIn) + i];
                    }

                    w.Gradient[(o * fanIn) + i] = (float)dw;
                }
            }

            if (reluOutput is not null)
            {
                for (int k = 0; k < dx.Length; k++)
                {
                    dx[k] = reluOutput[k] > 0 ? dx[k] : 0;
                }
            }

            return dx;
        }
    }
}
