using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using CnnGen.Training;

namespace CnnGen.Bench;

/// <summary>A network <c>--train</c> times: its generated trainer, the optimizer of ../shared/peers/train_torch.py, its weights.</summary>
internal sealed record TrainModel(string Name, string Folder, string WeightsFile, Func<TensorSet, TrainerOptions, NetworkTrainer> Load, Func<IReadOnlyList<Parameter>, Optimizer> Optimizer)
{
    /// <summary>The models train_torch.py times, with its optimizers (lenet5 Adam 1e-3; mlp and cifar_resnet8_bn SGD 0.05, momentum 0.9).</summary>
    public static readonly IReadOnlyList<TrainModel> All =
    [
        new("lenet5", "lenet5", "weights.safetensors", (w, o) => LeNet5.Trainer.Load(w, o), p => new Adam(p, new AdamOptions { LearningRate = 1e-3 })),
        new("mlp", "mlp", "weights.safetensors", (w, o) => Mlp.Trainer.Load(w, o), p => new Sgd(p, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 })),
        new("cifar_resnet8_bn", "cifar_resnet8", "weights_bn.safetensors", (w, o) => CifarResNet8Bn.Trainer.Load(w, o), p => new Sgd(p, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 })),
    ];

    public string WeightsPath => Path.Combine(AppContext.BaseDirectory, "models", Folder, WeightsFile);
}

/// <summary>
/// <c>--train</c>: times one training step (training-mode forward, cross-entropy, backward, gradient sum over threads,
/// optimizer) at a batch size, on random N(0, 1) inputs with random labels as train_torch.py does; median step time,
/// images/s, bytes allocated per step (every thread: <see cref="GC.GetTotalAllocatedBytes(bool)"/>). With
/// <c>--profile</c> it also times the phases on their own: the training-mode forward, <c>ComputeGradients</c> (forward,
/// loss, backward, gradient sum) and the optimizer.
/// </summary>
internal static class TrainBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(Options opt)
    {
        Console.WriteLine(string.Format(Inv, "CnnGen training bench: .NET {0}, {1} s per point, threads {2}, batch {3}",
            Environment.Version, opt.Seconds, string.Join(",", opt.ThreadCounts), string.Join(",", opt.Batches)));
        Console.WriteLine("model             width batch thr  median_us     min_us      img/s   B/step   loss first -> last");
        var results = new List<Result>();
        foreach (TrainModel model in TrainModel.All.Where(m => opt.Models is null || opt.Models.Contains(m.Name)))
        {
            TensorSet weights = TensorSet.LoadSafeTensors(model.WeightsPath);
            foreach (VectorWidth width in opt.Widths)
            {
                foreach (int threads in opt.ThreadCounts)
                {
                    foreach (int batch in opt.Batches)
                    {
                        results.Add(Measure(model, weights, width, threads, batch, opt));
                    }
                }
            }
        }

        if (opt.Json is not null)
        {
            Report.WriteJson(opt.Json, double.NaN, double.NaN, results);
            Console.WriteLine("wrote " + opt.Json);
        }

        return 0;
    }

    private static Result Measure(TrainModel model, TensorSet weights, VectorWidth width, int threads, int batch, Options opt)
    {
        using NetworkTrainer trainer = model.Load(weights, new TrainerOptions { Threads = threads, VectorWidth = width });
        Optimizer optimizer = model.Optimizer(trainer.Parameters);
        var random = new Random(0);
        var inputs = new float[batch * trainer.InputSize];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = (float)Gaussian(random);
        }

        var labels = new int[batch];
        for (int i = 0; i < batch; i++)
        {
            labels[i] = random.Next(10);
        }

        double firstLoss = trainer.Step(inputs, labels, batch, optimizer).Loss, lastLoss = firstLoss;
        void Step() => lastLoss = trainer.Step(inputs, labels, batch, optimizer).Loss;
        Timing t = Timer.Measure(Step, opt.Seconds, 10);

        const int allocSteps = 20;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < allocSteps; i++)
        {
            Step();
        }

        double allocated = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)allocSteps;
        string vector = "V" + ((int)trainer.VectorWidth).ToString(Inv);
        var r = new Result(model.Name, batch, threads, t.MedianUs, t.MinUs, batch / (t.MedianUs / 1e6), double.NaN, allocated, vector, "train");
        Console.WriteLine(string.Format(Inv, "{0,-16} {1,6} {2,5} {3,3} {4,10:F1} {5,10:F1} {6,10:F0} {7,8:F0}   {8:F4} -> {9:F4}",
            r.Model, vector, batch, threads, r.MedianUs, r.MinUs, r.ImgsPerS, allocated, firstLoss, lastLoss));
        if (opt.Profile)
        {
            Profile(trainer, optimizer, inputs, labels, batch, t.MedianUs, opt.Seconds);
        }

        return r;
    }

    /// <summary>Times the phases of a step on their own and prints their share of the step's median.</summary>
    private static void Profile(NetworkTrainer trainer, Optimizer optimizer, float[] inputs, int[] labels, int batch, double stepUs, double seconds)
    {
        var outputs = new float[batch * trainer.OutputSize];
        // Both phases on spans (the caller copies the batch in both: Forward has only the span overload), so "backward =
        // gradients - forward" holds no copy difference; the timed Step is on the arrays (each thread copies its own
        // images), so on several threads that path's difference lands in "rest of Step".
        double forward = Timer.Measure(() => trainer.Forward(inputs.AsSpan(), batch, outputs, training: true), seconds, 10).MedianUs;
        double gradients = Timer.Measure(() => trainer.ComputeGradients(inputs.AsSpan(), labels.AsSpan(), batch), seconds, 10).MedianUs;
        double update = Timer.Measure(optimizer.Step, seconds, 10).MedianUs;
        double backward = gradients - forward;
        double rest = stepUs - gradients - update;
        Console.WriteLine(string.Format(Inv,
            "  phases: forward (training mode) {0:F1} us ({1:P0}); loss + backward + gradient sum {2:F1} us ({3:P0}); optimizer {4:F1} us ({5:P0}); rest of Step (checks, copies) {6:F1} us ({7:P0})",
            forward, forward / stepUs, backward, backward / stepUs, update, update / stepUs, rest, rest / stepUs));
    }

    /// <summary>A standard normal draw (Box-Muller).</summary>
    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>
    /// The Markdown table of CnnGen training versus PyTorch from interleaved rounds: CnnGen JSON files (this bench's
    /// <c>--train --json</c>) and PyTorch JSON files (train_torch.py), round i of each measured one after the other.
    /// Ratio = CnnGen median step / PyTorch median step of the same round; the range is over the rounds. Returns the
    /// number of missed targets (one thread, each model's first width).
    /// </summary>
    public static int CompareTable(IReadOnlyList<string> cnngenJsons, IReadOnlyList<string> torchJsons, TextWriter o)
    {
        if (cnngenJsons.Count != torchJsons.Count || cnngenJsons.Count == 0)
        {
            throw new ArgumentException("--train-report needs as many CnnGen as PyTorch files (one of each per round)");
        }

        var rounds = cnngenJsons.Select(p => Report.ReadCnnGen(p).Results.Where(r => r.Mode == "train").ToList()).ToList();
        var torch = torchJsons.Select(ReadTorch).ToList();
        o.WriteLine("| model | batch | thr | width | CnnGen step us (per round) | PyTorch step us (per round) | CnnGen img/s | ratio (median) | ratio range | target | met in | bytes/step |");
        o.WriteLine("|---|---:|---:|---|---|---|---:|---:|---|---:|---|---:|");
        int missed = 0;
        foreach (Result first in rounds[0])
        {
            // Judged at each model's first width: the trainer's automatic choice, which differs between models.
            string primary = rounds[0].First(r => r.Model == first.Model).Vector;
            var mine = rounds.Select(rs => rs.First(r => r.Model == first.Model && r.Batch == first.Batch && r.Threads == first.Threads && r.Vector == first.Vector)).ToList();
            var theirs = torch.Select(t => t.TryGetValue((first.Model, first.Batch), out double us) ? us : double.NaN).ToList();
            var ratios = mine.Zip(theirs, (m, t) => m.MedianUs / t).ToList();
            double ratio = Median(mine.Select(m => m.MedianUs)) / Median(theirs);
            double target = Targets.GetValueOrDefault(first.Model, double.NaN);
            double allocated = mine.Max(m => m.AllocatedBytesPerCall);
            string targetText = "-", met = "-";
            if (first.Threads == 1 && first.Vector == primary && double.IsFinite(target))
            {
                int ok = ratios.Count(r => r <= target);
                targetText = "<= " + target.ToString("0.0#", Inv);
                met = string.Format(Inv, "{0} of {1}", ok, ratios.Count);
                missed += ratio <= target && allocated == 0 ? 0 : 1;
            }

            o.WriteLine(string.Format(Inv, "| {0} | {1} | {2} | {3} | {4} | {5} | {6:N0} | {7} | {8} | {9} | {10} | {11:0} |",
                first.Model, first.Batch, first.Threads, first.Vector,
                string.Join(", ", mine.Select(m => m.MedianUs.ToString("F0", Inv))),
                first.Threads == 1 ? string.Join(", ", theirs.Select(t => t.ToString("F0", Inv))) : "(1 thread only)",
                Median(mine.Select(m => m.ImgsPerS)),
                first.Threads == 1 ? ratio.ToString("F2", Inv) : "-",
                first.Threads == 1 ? ratios.Min().ToString("F2", Inv) + "-" + ratios.Max().ToString("F2", Inv) : "-",
                targetText, met, allocated));
        }

        o.WriteLine();
        foreach (Result one in rounds[0].Where(r => r.Threads == 1))
        {
            var more = rounds[0].Where(r => r.Model == one.Model && r.Batch == one.Batch && r.Vector == one.Vector && r.Threads > 1);
            foreach (Result m in more)
            {
                var speedups = rounds.Select(rs => rs.First(r => r.Model == one.Model && r.Batch == one.Batch && r.Vector == one.Vector && r.Threads == 1).MedianUs
                    / rs.First(r => r.Model == m.Model && r.Batch == m.Batch && r.Vector == m.Vector && r.Threads == m.Threads).MedianUs).ToList();
                o.WriteLine(string.Format(Inv, "{0} batch {1} {2}: {3} threads {4:F2}x faster than 1 (rounds {5}; target >= 1.7x)",
                    one.Model, one.Batch, one.Vector, m.Threads, Median(speedups), string.Join(", ", speedups.Select(s => s.ToString("F2", Inv)))));
            }
        }

        return missed;
    }

    /// <summary>CnnGen step time / PyTorch step time targets, one thread, batch 64 (issue 12).</summary>
    public static readonly IReadOnlyDictionary<string, double> Targets = new Dictionary<string, double>
    {
        ["lenet5"] = 0.25,
        ["mlp"] = 0.5,
        ["cifar_resnet8_bn"] = 0.6,
    };

    /// <summary>train_torch.py's JSON: (model, batch) -> median_step_us.</summary>
    private static Dictionary<(string, int), double> ReadTorch(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var map = new Dictionary<(string, int), double>();
        foreach (JsonElement e in doc.RootElement.GetProperty("results").EnumerateArray())
        {
            map[(e.GetProperty("model").GetString()!, e.GetProperty("batch").GetInt32())] = e.GetProperty("median_step_us").GetDouble();
        }

        return map;
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] v = values.OrderBy(x => x).ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
    }
}
