using System.Linq;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Networks;
using CnnGen.Training;
using OptimizerGolden = CnnGen.Tests.Training.OptimizerGolden;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// The generated trainers against PyTorch's training goldens (tests/fixtures/training) on every vector width: logits and
/// loss at init in training mode, every parameter gradient, the running statistics after one forward, and every weight
/// (and running statistic) after 3 steps of SGD, Adam and AdamW, each within 1e-4 (abs + rel).
/// </summary>
[TestFixture]
public sealed class GeneratedGoldenTests
{
    private const double Tolerance = 1e-4;

    [TestCaseSource(typeof(GoldenTrainers), nameof(GoldenTrainers.NetworkWidths))]
    public void Logits_loss_gradients_and_running_statistics_at_init(string network, VectorWidth width)
    {
        TrainingGolden golden = GoldenTrainers.Golden(network);
        (float[] input, int[] labels, int batch) = golden.Batch(0);
        using (NetworkTrainer forward = GoldenTrainers.Load(network, golden.Init, width))
        {
            var logits = new float[batch * forward.OutputSize];
            forward.Forward(input, batch, logits, training: true);
            Training.TrainingGolden.AssertClose(logits, golden.Batch0Logits, Tolerance, $"{network} {width} logits");
        }

        using NetworkTrainer trainer = GoldenTrainers.Load(network, golden.Init, width);
        StepResult result = trainer.ComputeGradients(input, labels, batch);
        Assert.That(result.Loss, Is.EqualTo(golden.Batch0Loss).Within(Tolerance * (1 + golden.Batch0Loss)), "loss");
        TensorSet grads = golden.Grads;
        Assert.That(trainer.Parameters.Select(p => p.Name), Is.EqualTo(grads.Names), "parameters in state_dict order");
        foreach (Parameter p in trainer.Parameters)
        {
            Training.TrainingGolden.AssertClose(p.ToTensor(p.Name, p.Gradient).Data, grads.Get(p.Name).Data, Tolerance, $"{network} {width} d {p.Name}");
            float[] real = RealLanes(p);
            Assert.That(p.Gradient.ToArray().Where((_, i) => real[i] == 0f), Is.All.EqualTo(0f), $"{p.Name}: padded lanes of the gradient");
        }

        if (golden.HasRunningStatistics)
        {
            TensorSet saved = trainer.ToTensorSet();
            foreach (Tensor t in golden.RunningAfterForward)
            {
                Training.TrainingGolden.AssertClose(saved.Get(t.Name).Data, t.Data, Tolerance, $"{network} {width} {t.Name} after one forward");
            }
        }
    }

    [TestCaseSource(typeof(GoldenTrainers), nameof(GoldenTrainers.OptimizerWidths))]
    public void Three_optimizer_steps(string network, string optimizer, VectorWidth width)
    {
        TrainingGolden golden = GoldenTrainers.Golden(network);
        using NetworkTrainer trainer = GoldenTrainers.Load(network, golden.Init, width);
        TensorSet after = OptimizerGolden.Run(network, optimizer, trainer.Parameters, (_, input, labels) => trainer.ComputeGradients(input, labels, labels.Length).Loss, Tolerance);
        TensorSet saved = trainer.ToTensorSet();
        foreach (Tensor t in after.Where(t => t.Name.Contains("running_", System.StringComparison.Ordinal)))
        {
            Training.TrainingGolden.AssertClose(saved.Get(t.Name).Data, t.Data, Tolerance, $"{network} {optimizer} {width} {t.Name} after 3 steps");
        }
    }

    /// <summary>1 where a packed element holds a real weight, 0 in padded lanes (packing PyTorch ones clears the padding).</summary>
    internal static float[] RealLanes(Parameter p)
    {
        var packed = new float[p.PackedLength];
        p.FromPyTorch(Enumerable.Repeat(1f, p.ElementCount).ToArray(), packed);
        return packed;
    }
}
