using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Networks;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>The generated trainers of the training goldens' networks (declared in tests/CnnGen.Tests.Networks), by golden name.</summary>
public static class GoldenTrainers
{
    /// <summary>The golden networks the generated trainers cover so far.</summary>
    public static readonly string[] Networks = ["mlp", "lenet5", "cifar_resnet8_bn"];

    /// <summary>A trainer of <paramref name="network"/> (its logits variant: no final softmax), loaded from <paramref name="weights"/>.</summary>
    public static NetworkTrainer Load(string network, TensorSet weights, VectorWidth width, int threads = 1)
    {
        var options = new TrainerOptions { VectorWidth = width, Threads = threads };
        return network switch
        {
            "mlp" => MlpLogits.Trainer.Load(weights, options),
            "lenet5" => LeNet5Logits.Trainer.Load(weights, options),
            "cifar_resnet8_bn" => CifarResNet8Bn.Trainer.Load(weights, options),
            _ => throw new ArgumentException("no generated trainer for " + network, nameof(network)),
        };
    }

    public static TrainingGolden Golden(string network) => TrainingGolden.All.Single(g => g.Name == network);

    public static IEnumerable<TestCaseData> NetworkWidths() =>
        from n in Networks from w in Generator.GeneratorHarness.Widths select new TestCaseData(n, w).SetArgDisplayNames(n, w.ToString());

    public static IEnumerable<TestCaseData> OptimizerWidths() =>
        from n in Networks from o in Training.TrainingGolden.Optimizers from w in Generator.GeneratorHarness.Widths select new TestCaseData(n, o, w).SetArgDisplayNames(n, o, w.ToString());
}
