using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>
/// The 3-step optimizer golden, ready for the generated trainer: PyTorch's weights after 3 steps of SGD, Adam
/// and AdamW (batch 0, then 1, then 2, each from init.safetensors).
/// </summary>
public static class OptimizerGolden
{
    /// <summary>
    /// Fills every parameter's <see cref="Parameter.Gradient"/> with d loss / d parameter on the batch at the
    /// parameters' current values (train mode: batch norm uses and updates batch statistics) and returns the
    /// mean cross-entropy loss. Gradients are zeroed before each call.
    /// </summary>
    /// <param name="batch">0, 1 or 2.</param>
    /// <param name="input">NCHW floats.</param>
    /// <param name="labels">One label per image.</param>
    public delegate double LossAndGradients(int batch, float[] input, int[] labels);

    /// <summary>
    /// Sets <paramref name="parameters"/> from init.safetensors (through their layouts), creates the golden's
    /// optimizer, runs 3 steps with <paramref name="lossAndGradients"/> checking the loss before each step, and
    /// checks every parameter against after_&lt;optimizer&gt;.safetensors, all within <paramref name="tolerance"/>
    /// (abs + rel). Returns the after file, so the caller can also check what is not a parameter (batch-norm
    /// running statistics, updated by the three train-mode forwards).
    /// </summary>
    public static TensorSet Run(string network, string optimizer, IReadOnlyList<Parameter> parameters, LossAndGradients lossAndGradients, double tolerance = 1e-4)
    {
        TensorSet init = TrainingGolden.Load(network, "init.safetensors");
        TensorSet grads = TrainingGolden.Load(network, "grads.safetensors");
        Assert.That(parameters.Select(p => p.Name), Is.EquivalentTo(grads.Names), "the trainable parameters are those PyTorch has gradients for");
        foreach (Parameter p in parameters)
        {
            p.SetValue(init.Get(p.Name));
        }

        Optimizer opt = TrainingGolden.Create(network, optimizer, parameters);
        double[] losses = TrainingGolden.Losses(network, optimizer);
        for (int b = 0; b < 3; b++)
        {
            (float[] input, int[] labels, _) = TrainingGolden.Batch(network, b);
            opt.ZeroGradients();
            double loss = lossAndGradients(b, input, labels);
            Assert.That(Math.Abs(loss - losses[b]), Is.LessThanOrEqualTo(tolerance * (1 + Math.Abs(losses[b]))), $"{network} {optimizer}: loss before step {b + 1}");
            opt.Step();
        }

        TensorSet after = TrainingGolden.Load(network, $"after_{optimizer}.safetensors");
        foreach (Parameter p in parameters)
        {
            TrainingGolden.AssertClose(p.ValueTensor().Data, after.Get(p.Name).Data, tolerance, $"{network} {optimizer} {p.Name} after 3 steps");
        }

        return after;
    }
}
