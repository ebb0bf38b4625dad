using System.Collections.Generic;
using System.Linq;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Backward;

/// <summary>
/// LeNet-5, the MLP and the batch-norm ResNet-8 built from the float reference layers, from PyTorch's initialisation, against
/// PyTorch's training goldens (tests/fixtures/training): logits and loss of batch 0 in training mode, every parameter
/// gradient, and the running statistics after that forward pass; each within 1e-4 absolute + 1e-4 relative.
/// </summary>
[TestFixture]
public sealed class NetworkGoldenTests
{
    private const double Tolerance = 1e-4;

    public static IEnumerable<TestCaseData> Goldens() => TrainingGolden.All.Select(g => new TestCaseData(g).SetArgDisplayNames(g.Name));

    [TestCaseSource(nameof(Goldens))]
    public void Batch0LogitsLossAndGradientsMatchPyTorch(TrainingGolden golden)
    {
        ReferenceNetwork<float> network = golden.CreateNetwork<float>();
        (float[] input, int[] labels, int batch) = golden.Batch(0);

        (float loss, float[] logits) = network.ComputeGradients(input, labels, batch);

        ConformanceCase.AssertClose(golden.Batch0Logits, logits, Tolerance, Tolerance, $"{golden.Name} batch 0 logits");
        Assert.That(loss, Is.EqualTo(golden.Batch0Loss).Within(Tolerance + (Tolerance * golden.Batch0Loss)), "batch 0 loss");
        TensorSet grads = golden.Grads;
        Assert.That(network.Parameters.Select(p => p.Name), Is.EquivalentTo(grads.Names), "one gradient per trained tensor");
        foreach (Parameter<float> parameter in network.Parameters)
        {
            Tensor expected = grads.Get(parameter.Name);
            Assert.That(expected.Shape.ToArray(), Is.EqualTo(parameter.Shape), parameter.Name);
            ConformanceCase.AssertClose(expected.Data, parameter.Grad, Tolerance, Tolerance, $"{golden.Name} d loss / d {parameter.Name}");
        }

        if (golden.HasRunningStatistics)
        {
            TensorSet running = golden.RunningAfterForward;
            Assert.That(network.Buffers.Select(b => b.Name), Is.EquivalentTo(running.Names), "every running statistic is stored");
            foreach ((string name, float[] value) in network.Buffers)
            {
                ConformanceCase.AssertClose(running.Get(name).Data, value, Tolerance, Tolerance, $"{golden.Name} {name} after one training forward");
            }
        }
        else
        {
            Assert.That(network.Buffers, Is.Empty);
        }
    }

    /// <summary>Inference mode uses the running statistics, not the batch's: the logits differ from the training-mode ones where the network has batch norm.</summary>
    [TestCaseSource(nameof(Goldens))]
    public void InferenceModeUsesTheRunningStatistics(TrainingGolden golden)
    {
        ReferenceNetwork<float> network = golden.CreateNetwork<float>();
        const int batch = 2;
        float[] input = golden.Batch(0).Input[..(batch * golden.Input.Size)];
        float[] eval = network.Forward(input, batch, training: false);
        float[] train = network.Forward(input, batch, training: true);
        if (golden.HasRunningStatistics)
        {
            Assert.That(eval, Is.Not.EqualTo(train));
        }
        else
        {
            Assert.That(eval, Is.EqualTo(train), "without batch norm or dropout the modes agree bit for bit");
        }
    }

    /// <summary>
    /// The optimizer tests (after merging the optimizers) take one step as: <c>ComputeGradients</c>, then the optimizer over
    /// <c>Parameters</c> (name, value, gradient). This checks what they rely on: the gradients of a second pass replace those
    /// of the first (they are cleared), and the same batch gives the same bits.
    /// </summary>
    [Test]
    public void ComputeGradientsClearsAndIsDeterministic()
    {
        TrainingGolden golden = TrainingGolden.All.First(g => g.Name == "lenet5");
        ReferenceNetwork<float> network = golden.CreateNetwork<float>();
        (float[] input, int[] labels, int batch) = golden.Batch(0);
        network.ComputeGradients(input, labels, batch);
        float[][] first = network.Parameters.Select(p => p.Grad.ToArray()).ToArray();
        (float[] input1, int[] labels1, int batch1) = golden.Batch(1);
        network.ComputeGradients(input1, labels1, batch1);
        network.ComputeGradients(input, labels, batch);
        Assert.That(network.Parameters.Select(p => p.Grad), Is.EqualTo(first));
    }
}
