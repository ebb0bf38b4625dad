using System;
using System.Collections.Generic;
using CnnGen;

namespace Mnist;

/// <summary>A command line the sample cannot act on; reported as one line, exit code 1.</summary>
public sealed class UsageException : Exception
{
    public UsageException()
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>What <c>run</c>, <c>classify</c> and <c>show</c> were asked to do (parsed by <see cref="Cli"/>).</summary>
public sealed class Options
{
    public const int DefaultRuns = 5000;
    public const int DefaultWarmupMs = 500;

    /// <summary>The image <c>classify</c> reads.</summary>
    public string? File { get; init; }

    /// <summary>The MNIST IDX files, PyTorch's weights and predictions; null: <see cref="DataFolder.DefaultPath"/>.</summary>
    public string? DataDir { get; init; }

    /// <summary>A folder with <c>lenet5.safetensors</c> / <c>mlp.safetensors</c> to use instead of the data folder's.</summary>
    public string? WeightsDir { get; init; }

    /// <summary>"lenet5" or "mlp" (classify).</summary>
    public string Net { get; init; } = "lenet5";

    public string OutDir { get; init; } = "out";
    public int Digit { get; init; }
    public int Runs { get; init; } = DefaultRuns;
    public int WarmupMs { get; init; } = DefaultWarmupMs;
    public VectorWidth Width { get; init; } = VectorWidth.Auto;

    public LoadOptions LoadOptions => new() { VectorWidth = Width };

    public DataFolder Data() => new(DataDir ?? DataFolder.DefaultPath);

    /// <summary>Where the weights come from: <see cref="WeightsDir"/> when given, else the data folder.</summary>
    public WeightsSource Weights(DataFolder data) => WeightsSource.Resolve(data, WeightsDir);
}

/// <summary>What <c>train</c> was asked to do (parsed by <see cref="Cli"/>).</summary>
public sealed class TrainOptions
{
    public const int DefaultEpochs = 10;
    public const int DefaultBatchSize = 64;
    public const int DefaultSeed = 2026;
    public const string DefaultOutDir = "trained";

    /// <summary>The networks to train, in order: "lenet5", "mlp" or both.</summary>
    public IReadOnlyList<string> Networks { get; init; } = ["lenet5", "mlp"];

    public int Epochs { get; init; } = DefaultEpochs;
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>Null: each network's own recipe (<see cref="TrainSettings.For"/>).</summary>
    public double? LearningRate { get; init; }

    /// <summary>Null: each network's own recipe.</summary>
    public OptimizerKind? Optimizer { get; init; }

    /// <summary>The processor count, at most <see cref="CnnGen.Training.TrainerOptions.MaxThreads"/>.</summary>
    public static int DefaultThreads => Math.Min(Environment.ProcessorCount, CnnGen.Training.TrainerOptions.MaxThreads);

    public int Threads { get; init; } = DefaultThreads;
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Where the weights and the chart go.</summary>
    public string OutDir { get; init; } = DefaultOutDir;

    /// <summary>Where the JSON report goes; null: none.</summary>
    public string? JsonPath { get; init; }

    public string? DataDir { get; init; }
    public VectorWidth Width { get; init; } = VectorWidth.Auto;

    public LoadOptions LoadOptions => new() { VectorWidth = Width };

    public DataFolder Data() => new(DataDir ?? DataFolder.DefaultPath);
}
