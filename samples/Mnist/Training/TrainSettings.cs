using System;
using System.Globalization;
using CnnGen;

namespace Mnist;

/// <summary>The optimizers <c>train</c> offers, with PyTorch's formulas and defaults.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with momentum (<c>torch.optim.SGD(lr, momentum=0.9)</c>).</summary>
    Sgd,

    /// <summary><c>torch.optim.Adam(lr)</c>, betas (0.9, 0.999), eps 1e-8.</summary>
    Adam,

    /// <summary><c>torch.optim.AdamW(lr, weight_decay=0.01)</c>.</summary>
    AdamW,
}

/// <summary>
/// How one network is trained: the recipe of issue 12 (LeNet-5: Adam, lr 1e-3; MLP: SGD, lr 0.05, momentum 0.9;
/// batch 64; 10 epochs) with the command line's overrides applied.
/// </summary>
public sealed record TrainSettings(
    string Network,
    int Epochs,
    int BatchSize,
    OptimizerKind Optimizer,
    double LearningRate,
    double Momentum,
    double WeightDecay,
    int Threads,
    int Seed)
{
    /// <summary>The vector width the training kernels run with (<c>--width</c>; Auto: the widest the CPU accelerates).</summary>
    public VectorWidth Width { get; init; } = VectorWidth.Auto;

    /// <summary>The optimizer each network trains with unless <c>--optimizer</c> says otherwise.</summary>
    public static OptimizerKind DefaultOptimizer(string network) => network switch
    {
        "lenet5" => OptimizerKind.Adam,
        "mlp" => OptimizerKind.Sgd,
        _ => throw new UsageException($"unknown network '{network}' (expected lenet5 or mlp)"),
    };

    /// <summary>The learning rate an optimizer gets unless <c>--lr</c> says otherwise.</summary>
    public static double DefaultLearningRate(OptimizerKind optimizer) => optimizer == OptimizerKind.Sgd ? 0.05 : 1e-3;

    /// <summary>The settings for <paramref name="network"/> under <paramref name="options"/>.</summary>
    public static TrainSettings For(string network, TrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptimizerKind optimizer = options.Optimizer ?? DefaultOptimizer(network);
        return new TrainSettings(
            network,
            options.Epochs,
            options.BatchSize,
            optimizer,
            options.LearningRate ?? DefaultLearningRate(optimizer),
            Momentum: optimizer == OptimizerKind.Sgd ? 0.9 : 0.0,
            WeightDecay: optimizer == OptimizerKind.AdamW ? 0.01 : 0.0,
            options.Threads,
            options.Seed)
        {
            Width = options.Width,
        };
    }

    /// <summary>"sgd", "adam" or "adamw": the name in the JSON report and on the command line.</summary>
    public static string Name(OptimizerKind optimizer) => optimizer switch
    {
        OptimizerKind.Sgd => "sgd",
        OptimizerKind.Adam => "adam",
        OptimizerKind.AdamW => "adamw",
        _ => throw new ArgumentOutOfRangeException(nameof(optimizer), optimizer, null),
    };

    /// <summary>"adam, lr 0.001" or "sgd, lr 0.05, momentum 0.9".</summary>
    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        string text = string.Create(inv, $"{Name(Optimizer)}, lr {LearningRate:G6}");
        if (Momentum != 0)
        {
            text += string.Create(inv, $", momentum {Momentum:G6}");
        }

        if (WeightDecay != 0)
        {
            text += string.Create(inv, $", weight decay {WeightDecay:G6}");
        }

        return text;
    }
}
