using System;
using System.Diagnostics;
using System.Linq;
using CnnGen.Tests.Networks;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// Not a benchmark (the machine is shared): a rough step time per network, batch 64, for the report. Run explicitly:
/// <c>dotnet test --filter StepTimes</c>.
/// </summary>
[Explicit("a rough timing, not a test")]
public sealed class StepTimes
{
    [TestCase("mlp", 1)]
    [TestCase("lenet5", 1)]
    [TestCase("cifar_resnet8_bn", 1)]
    [TestCase("mlp", 2)]
    [TestCase("lenet5", 2)]
    [TestCase("cifar_resnet8_bn", 2)]
    public void Step_time_at_batch_64(string network, int threads)
    {
        using NetworkTrainer trainer = network switch
        {
            "mlp" => Mlp.Trainer.Create(1, new TrainerOptions { Threads = threads }),
            "lenet5" => LeNet5.Trainer.Create(1, new TrainerOptions { Threads = threads }),
            _ => CifarResNet8Bn.Trainer.Create(1, new TrainerOptions { Threads = threads }),
        };
        float[] input = TrainingNetworks.Random(64 * trainer.InputSize, 1);
        int[] labels = Enumerable.Range(0, 64).Select(i => i % 10).ToArray();
        var adam = new Adam(trainer.Parameters, new AdamOptions { LearningRate = 1e-4 });
        for (int i = 0; i < 5; i++)
        {
            trainer.Step(input, labels, 64, adam);
        }

        int steps = network == "cifar_resnet8_bn" ? 10 : 50;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            trainer.Step(input, labels, 64, adam);
        }

        TestContext.Out.WriteLine($"{network}, {threads} thread(s), {trainer.VectorWidth}: {sw.Elapsed.TotalMilliseconds / steps:F2} ms per step of 64");
    }
}
