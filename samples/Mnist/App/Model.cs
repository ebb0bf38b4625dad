using System;
using CnnGen;

namespace Mnist;

/// <summary>One of the two networks the sample compares, with its generated metadata.</summary>
public sealed class Model
{
    private Model(string key, string title, INetwork network, long parameters, long flops, string summary, string weightsFile, string predictionsFile)
    {
        Key = key;
        Title = title;
        Network = network;
        Parameters = parameters;
        Flops = flops;
        Summary = summary;
        WeightsFile = weightsFile;
        PredictionsFile = predictionsFile;
    }

    /// <summary>"lenet5" or "mlp".</summary>
    public string Key { get; }
    public string Title { get; }
    public INetwork Network { get; }
    public long Parameters { get; }
    public long Flops { get; }
    public string Summary { get; }
    public string WeightsFile { get; }
    public string PredictionsFile { get; }

    public static Model Load(string key, DataFolder data, LoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        switch (key)
        {
            case "lenet5":
                return new Model(
                    key, "LeNet-5 (CNN)", LeNet5.Load(data.Require(DataFolder.LeNet5Weights), options),
                    LeNet5.ParameterCount, LeNet5.Flops, LeNet5.Summary, DataFolder.LeNet5Weights, DataFolder.LeNet5Predictions);
            case "mlp":
                return new Model(
                    key, "MLP 784-128-64-10", Mlp.Load(data.Require(DataFolder.MlpWeights), options),
                    Mlp.ParameterCount, Mlp.Flops, Mlp.Summary, DataFolder.MlpWeights, DataFolder.MlpPredictions);
            default:
                throw new UsageException($"unknown network '{key}' (expected lenet5 or mlp)");
        }
    }

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
}
