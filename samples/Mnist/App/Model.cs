using System;
using CnnGen;

namespace Mnist;

/// <summary>One of the two networks the sample compares, with its generated metadata and where its weights came from.</summary>
public sealed class Model
{
    private Model(string key, INetwork network)
    {
        Key = key;
        Network = network;
        Title = TitleOf(key);
        (Parameters, Flops, Summary, PredictionsFile) = key switch
        {
            "lenet5" => (LeNet5.ParameterCount, LeNet5.Flops, LeNet5.Summary, DataFolder.LeNet5Predictions),
            _ => (Mlp.ParameterCount, Mlp.Flops, Mlp.Summary, DataFolder.MlpPredictions),
        };
    }

    /// <summary>"lenet5" or "mlp".</summary>
    public string Key { get; }
    public string Title { get; }
    public INetwork Network { get; }
    public long Parameters { get; }
    public long Flops { get; }
    public string Summary { get; }

    /// <summary>PyTorch's predictions for these weights, in the data folder.</summary>
    public string PredictionsFile { get; }

    /// <summary>True when the weights are PyTorch's (the data folder's), whose predictions <c>run</c> compares with.</summary>
    public bool HasPyTorchWeights { get; private init; }

    /// <summary>The weights file the network was loaded from; null when built from tensors in memory.</summary>
    public string? WeightsPath { get; private init; }

    /// <summary>Loads network <paramref name="key"/> from <paramref name="weights"/>.</summary>
    public static Model Load(string key, WeightsSource weights, LoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        string path = weights.Require(key);
        INetwork network;
        try
        {
            network = Build(key, TensorSet.LoadSafeTensors(path), options);
        }
        catch (WeightsException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new WeightsException($"{path}: {e.Message}", e.TensorName, e);
        }

        return new Model(key, network) { HasPyTorchWeights = weights.IsPyTorchs(key), WeightsPath = path };
    }

    /// <summary>Wraps a network built elsewhere (e.g. from a training run's weights); not PyTorch's.</summary>
    public static Model From(string key, INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        TitleOf(key);
        return new Model(key, network);
    }

    /// <summary>Builds network <paramref name="key"/> from tensors named as PyTorch's state_dict (a training run's too).</summary>
    public static INetwork Build(string key, TensorSet tensors, LoadOptions options) => key switch
    {
        "lenet5" => LeNet5.Load(tensors, options),
        "mlp" => Mlp.Load(tensors, options),
        _ => throw Unknown(key),
    };

    /// <summary>"LeNet-5 (CNN)" or "MLP 784-128-64-10".</summary>
    public static string TitleOf(string key) => key switch
    {
        "lenet5" => "LeNet-5 (CNN)",
        "mlp" => "MLP 784-128-64-10",
        _ => throw Unknown(key),
    };

    /// <summary>"lenet5.safetensors" or "mlp.safetensors".</summary>
    public static string WeightsFileName(string key) => key switch
    {
        "lenet5" => DataFolder.LeNet5Weights,
        "mlp" => DataFolder.MlpWeights,
        _ => throw Unknown(key),
    };

    /// <summary>The index of the largest of <paramref name="probabilities"/>.</summary>
    public static int ArgMax(ReadOnlySpan<float> probabilities)
    {
        int best = 0;
        for (int i = 1; i < probabilities.Length; i++)
        {
            if (probabilities[i] > probabilities[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static UsageException Unknown(string key) => new($"unknown network '{key}' (expected lenet5 or mlp)");
}
