using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mnist;

/// <summary>
/// The JSON <c>train --json PATH</c> writes: <c>{"networks": [{"name", "epochs", "batch", "optimizer",
/// "test_accuracy", "train_seconds", "images_per_s", "epochs_log": [{"epoch", "loss", "train_accuracy",
/// "test_accuracy", "seconds"}]}]}</c>, accuracies as fractions. Serialized by System.Text.Json source generation
/// (no reflection: NativeAOT-safe).
/// </summary>
public sealed record TrainingReport([property: JsonPropertyName("networks")] IReadOnlyList<NetworkReport> Networks)
{
    public static TrainingReport From(IEnumerable<TrainingRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var networks = new List<NetworkReport>();
        foreach (TrainingRun run in runs)
        {
            var log = new List<EpochReport>();
            foreach (EpochRecord e in run.Epochs)
            {
                log.Add(new EpochReport(e.Epoch, e.Loss, e.TrainAccuracy, e.TestAccuracy, e.Seconds));
            }

            networks.Add(new NetworkReport(
                run.Key,
                run.Epochs.Count,
                run.Settings.BatchSize,
                TrainSettings.Name(run.Settings.Optimizer),
                run.TestAccuracy,
                run.TrainSeconds,
                run.ImagesPerSecond,
                log));
        }

        return new TrainingReport(networks);
    }

    public string ToJson() => JsonSerializer.Serialize(this, TrainingReportJson.Default.TrainingReport);

    /// <summary>Writes the report to <paramref name="path"/> (UTF-8, indented, a final newline).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        File.WriteAllText(path, ToJson() + "\n");
    }

    public static TrainingReport Parse(string json) =>
        JsonSerializer.Deserialize(json, TrainingReportJson.Default.TrainingReport)
        ?? throw new InvalidDataException("the JSON holds no training report");
}

/// <summary>One network in <see cref="TrainingReport"/>.</summary>
public sealed record NetworkReport(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("epochs")] int Epochs,
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("optimizer")] string Optimizer,
    [property: JsonPropertyName("test_accuracy")] double TestAccuracy,
    [property: JsonPropertyName("train_seconds")] double TrainSeconds,
    [property: JsonPropertyName("images_per_s")] double ImagesPerSecond,
    [property: JsonPropertyName("epochs_log")] IReadOnlyList<EpochReport> EpochsLog);

/// <summary>One epoch in <see cref="NetworkReport.EpochsLog"/>.</summary>
public sealed record EpochReport(
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("loss")] double Loss,
    [property: JsonPropertyName("train_accuracy")] double TrainAccuracy,
    [property: JsonPropertyName("test_accuracy")] double TestAccuracy,
    [property: JsonPropertyName("seconds")] double Seconds);

/// <summary>The source-generated serializer of <see cref="TrainingReport"/>.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(TrainingReport))]
public sealed partial class TrainingReportJson : JsonSerializerContext;
