using System;
using System.IO;
using System.Linq;
using CnnGen.Tests.Models;
using CnnGen.Tests.Networks;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// The snippet of README.md's "Training" section, statement for statement (keep them in sync), on the first 1,024 MNIST
/// test digits for three epochs: it compiles, trains, and hands over to the inference class.
/// </summary>
[TestFixture]
public sealed class ReadmeTrainingTests
{
    [Test]
    public void ReadmeSnippet_TrainsEvaluatesSavesAndHandsOver()
    {
        (float[] all, byte[] allLabels) = Fixtures.MnistTest();
        int count = 1024;
        float[] images = all[..(count * 784)];
        int[] labels = allLabels.Take(count).Select(l => (int)l).ToArray();
        float[] testImages = all[(count * 784)..];
        int[] testLabels = allLabels.Skip(count).Select(l => (int)l).ToArray();
        string path = Path.Combine(Path.GetTempPath(), "cnngen-readme-" + Guid.NewGuid().ToString("N") + ".safetensors");
        double firstLoss = double.NaN, lastLoss = double.NaN;

        // --- README.md, Training (Environment.ProcessorCount -> 2, 10 epochs -> 3, the file in a temp folder) ---
        using LeNet5.Trainer trainer = LeNet5.Trainer.Create(seed: 2026, new TrainerOptions { Threads = 2 });
        var adam = new Adam(trainer.Parameters, new AdamOptions { LearningRate = 1e-3 });

        for (int epoch = 0; epoch < 3; epoch++)
        {
            for (int first = 0; first + 64 <= count; first += 64)
            {
                StepResult step = trainer.Step(images.AsMemory(first * 784, 64 * 784), labels.AsMemory(first, 64), 64, adam);
                firstLoss = double.IsNaN(firstLoss) ? step.Loss : firstLoss;
                lastLoss = step.Loss;
            }
        }

        Evaluation test = trainer.Evaluate(testImages, testLabels, testLabels.Length);
        trainer.Save(path);
        LeNet5 net = trainer.ToNetwork();
        // --- end of the snippet ---

        try
        {
            Assert.That(lastLoss, Is.LessThan(firstLoss), "it learns");
            Assert.That(test.Count, Is.EqualTo(976));
            Assert.That(test.Accuracy, Is.GreaterThan(0.3), "48 steps of Adam on 1,024 digits: well above the 10% of chance");
            int correct = Enumerable.Range(0, testLabels.Length).Count(i => net.Classify(testImages.AsSpan(i * 784, 784)) == testLabels[i]);
            Assert.That((double)correct / testLabels.Length, Is.EqualTo(test.Accuracy).Within(2.5e-3), "the inference class classifies as the trainer evaluates (summation orders differ: a near tie may flip)");
            Assert.That(LeNet5.Load(path).Classify(testImages.AsSpan(0, 784)), Is.EqualTo(net.Classify(testImages.AsSpan(0, 784))), "the saved file loads");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
