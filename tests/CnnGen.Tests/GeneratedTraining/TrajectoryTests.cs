using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using CnnGen.Tests.Models;
using CnnGen.Tests.Networks;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// Ten epochs of MNIST training (tests/fixtures/training/*_trajectory): the 8,000 training digits in PyTorch's batch order,
/// from PyTorch's initial weights, LeNet-5 with Adam(1e-3) and the MLP with SGD(0.05, momentum 0.9), each declared with
/// its final softmax as a user would (the cross-entropy folds it). Every epoch's test accuracy (2,000 digits) must be
/// within 1.5 points of PyTorch's, and the final one at least 97.0% (LeNet-5; PyTorch 97.50%) and 94.5% (MLP; 95.25%).
/// Float summation orders differ, so trajectories drift apart slowly: accuracies are compared, not bits.
/// </summary>
[TestFixture]
public sealed class TrajectoryTests
{
    private const int Epochs = 10;
    private const int BatchSize = 64;

    [TestCase("lenet5", 0.970)]
    [TestCase("mlp", 0.945)]
    public void Ten_epochs_follow_PyTorch(string network, double finalAtLeast)
    {
        string folder = Path.Combine(Fixtures.Root, "training", network + "_trajectory");
        using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "golden.json")));
        double[] pytorch = json.RootElement.GetProperty("log").EnumerateArray().Select(e => e.GetProperty("test_accuracy").GetDouble()).ToArray();
        int[] order = MemoryMarshal.Cast<byte, int>(File.ReadAllBytes(Path.Combine(folder, "order.bin"))).ToArray();
        var images = Mnist.Idx.ReadImages(Path.Combine(Fixtures.Root, "mnist", "train-images-idx3-ubyte.gz"));
        byte[] trainLabels = Mnist.Idx.ReadLabels(Path.Combine(Fixtures.Root, "mnist", "train-labels-idx1-ubyte.gz"));
        (float[] test, byte[] testLabels) = Fixtures.MnistTest();
        int[] testClasses = testLabels.Select(l => (int)l).ToArray();
        TensorSet init = TensorSet.LoadSafeTensors(Path.Combine(Fixtures.Root, "training", network, "init.safetensors"));
        var options = new TrainerOptions { Threads = 2 };
        using NetworkTrainer trainer = network == "lenet5" ? LeNet5.Trainer.Load(init, options) : Mlp.Trainer.Load(init, options);
        Optimizer optimizer = network == "lenet5"
            ? new Adam(trainer.Parameters, new AdamOptions { LearningRate = 1e-3 })
            : new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 });

        int count = images.Count, batches = count / BatchSize;
        Assert.That(order, Has.Length.EqualTo(Epochs * count));
        var batch = new float[BatchSize * 784];
        var labels = new int[BatchSize];
        var clock = Stopwatch.StartNew();
        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            double loss = 0;
            for (int b = 0; b < batches; b++)
            {
                for (int i = 0; i < BatchSize; i++)
                {
                    int image = order[(epoch * count) + (b * BatchSize) + i];
                    images.ToFloat(image, batch.AsSpan(i * 784, 784));
                    labels[i] = trainLabels[image];
                }

                loss += trainer.Step(batch, labels, BatchSize, optimizer).Loss;
            }

            Evaluation e = trainer.Evaluate(test, testClasses, testClasses.Length);
            TestContext.Out.WriteLine($"{network} epoch {epoch + 1}: train loss {loss / batches:F4}, test accuracy {e.Accuracy:P2} (PyTorch {pytorch[epoch]:P2}), {clock.Elapsed.TotalSeconds:F1} s");
            Assert.That(e.Accuracy, Is.EqualTo(pytorch[epoch]).Within(0.015), $"{network}: test accuracy after epoch {epoch + 1}");
            if (epoch == Epochs - 1)
            {
                Assert.That(e.Accuracy, Is.GreaterThanOrEqualTo(finalAtLeast), $"{network}: final test accuracy");
            }
        }
    }
}
