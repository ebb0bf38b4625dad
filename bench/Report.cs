using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CnnGen.Bench;

/// <summary>
/// One measured (model, batch, threads, width) point; the JSON names are the issue's. <paramref name="Mode"/> is
/// "predict" (a <c>PredictBatch</c> call; no "mode" in the JSON, as before) or "train" (one training step of the whole
/// batch: <c>"mode": "train"</c>, and "allocated_bytes_per_call" is per step).
/// </summary>
internal sealed record Result(
    string Model, int Batch, int Threads, double MedianUs, double MinUs, double ImgsPerS, double Gflops,
    double AllocatedBytesPerCall, string Vector, string Mode = "predict");

/// <summary>The bench's JSON file and the CnnGen-versus-ONNX Runtime table.</summary>
internal static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Batch-1 targets (CnnGen time / ORT time) from DESIGN.md and issue 5; every model at batch 64: 1.0.</summary>
    public static readonly IReadOnlyDictionary<string, double> Batch1Targets = new Dictionary<string, double>
    {
        ["lenet5"] = 0.25,
        ["mlp"] = 0.3,
        ["cifar_resnet8"] = 0.9,
        ["mobilenet_block"] = 0.6,
        ["vgg_block"] = 1.0,
    };

    public const double Batch64Target = 1.0;

    /// <summary>Issue 13: every zoo network at batch 1, one thread and two threads on one image, CnnGen / ORT.</summary>
    public const double ZooTarget = 0.9;

    /// <summary>
    /// Issue 11's targets where the judged width is Vector256 (an AVX2 machine, or AVX-512 switched off): vgg_block and
    /// cifar_resnet8 <= 0.9 at batch 1 and 64, mobilenet_block <= 0.6 at batch 1, every model <= 1.0 at batch 64; the
    /// other batch-1 targets as <see cref="Batch1Targets"/>.
    /// </summary>
    public static double Target(string model, int batch, string vector)
    {
        if (ModelInfo.Zoo.Any(z => z.Name == model))
        {
            return batch == 1 ? ZooTarget : double.NaN;
        }

        bool avx2 = vector == "V256";
        if (avx2 && (model == "vgg_block" || model == "cifar_resnet8"))
        {
            return 0.9;
        }

        return batch == 1 ? Batch1Targets.GetValueOrDefault(model, double.NaN) : Batch64Target;
    }

    /// <summary>
    /// Writes <c>{"peak_gflops": {"v256", "v512"}, "results": [...]}</c> with exactly the issue's names; a file merged from
    /// several rounds (<paramref name="rounds"/>) adds <c>"rounds"</c> and, per result, <c>"round_median_us"</c>.
    /// </summary>
    public static void WriteJson(string path, double peak256, double peak512, IEnumerable<Result> results, IReadOnlyDictionary<Result, double[]>? rounds = null)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("peak_gflops");
        WriteNumber(w, "v256", peak256);
        WriteNumber(w, "v512", peak512);
        w.WriteEndObject();
        if (rounds is not null)
        {
            w.WriteNumber("rounds", rounds.Values.Select(r => r.Length).DefaultIfEmpty(0).Max());
        }

        w.WriteStartArray("results");
        foreach (var r in results)
        {
            w.WriteStartObject();
            if (r.Mode != "predict")
            {
                w.WriteString("mode", r.Mode);
            }

            w.WriteString("model", r.Model);
            w.WriteNumber("batch", r.Batch);
            w.WriteNumber("threads", r.Threads);
            WriteNumber(w, "median_us", r.MedianUs);
            WriteNumber(w, "min_us", r.MinUs);
            WriteNumber(w, "imgs_per_s", r.ImgsPerS);
            WriteNumber(w, "gflops", r.Gflops);
            WriteNumber(w, "allocated_bytes_per_call", r.AllocatedBytesPerCall);
            w.WriteString("vector", r.Vector);
            if (rounds is not null && rounds.TryGetValue(r, out var medians))
            {
                w.WriteStartArray("round_median_us");
                foreach (double m in medians)
                {
                    w.WriteNumberValue(Math.Round(m, 3));
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, Math.Round(value, 3));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    /// <summary>Reads a file written by <see cref="WriteJson"/>.</summary>
    public static (double Peak256, double Peak512, List<Result> Results) ReadCnnGen(string path)
    {
        // Several files of one round (e.g. one per thread count) may be joined with '+'; the first one's peaks count.
        string[] files = path.Split('+');
        using var doc = JsonDocument.Parse(File.ReadAllBytes(files[0]));
        var root = doc.RootElement;
        var peak = root.GetProperty("peak_gflops");
        var list = new List<Result>();
        var elements = root.GetProperty("results").EnumerateArray().Select(e => e.Clone()).ToList();
        foreach (string more in files.Skip(1))
        {
            using var extra = JsonDocument.Parse(File.ReadAllBytes(more));
            elements.AddRange(extra.RootElement.GetProperty("results").EnumerateArray().Select(e => e.Clone()));
        }

        foreach (var e in elements)
        {
            list.Add(new Result(
                e.GetProperty("model").GetString()!, e.GetProperty("batch").GetInt32(), e.GetProperty("threads").GetInt32(),
                Num(e, "median_us"), Num(e, "min_us"), Num(e, "imgs_per_s"), Num(e, "gflops"),
                Num(e, "allocated_bytes_per_call"), e.GetProperty("vector").GetString()!,
                e.TryGetProperty("mode", out var mode) ? mode.GetString()! : "predict"));
        }

        return (Num(peak, "v256"), Num(peak, "v512"), list);
    }

    /// <summary>
    /// ort_bench.js's or ort_zoo.js's JSON: (model, batch, threads) -> (median_us, min_us); a result without
    /// <c>threads</c> (ort_bench.js) ran one thread. Several files (one per thread count) may be joined with '+'.
    /// </summary>
    public static Dictionary<(string, int, int), (double Median, double Min)> ReadOrt(string path)
    {
        var map = new Dictionary<(string, int, int), (double, double)>();
        foreach (string file in path.Split('+'))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            foreach (var e in doc.RootElement.GetProperty("results").EnumerateArray())
            {
                int threads = e.TryGetProperty("threads", out var t) ? t.GetInt32() : 1;
                map[(e.GetProperty("model").GetString()!, e.GetProperty("batch").GetInt32(), threads)] = (Num(e, "median_us"), Num(e, "min_us"));
            }
        }

        return map;
    }

    /// <summary>
    /// Merges ort_bench.js files of several rounds into one of the same format: each result is the first round's with
    /// <c>median_us</c> the median of the rounds' medians, <c>min_us</c> their minimum, <c>imgs_per_s</c> and <c>gflops</c>
    /// from that median, and <c>round_median_us</c> added.
    /// </summary>
    public static void MergeOrt(IReadOnlyList<string> paths, string output)
    {
        var rounds = paths.Select(ReadOrt).ToArray();
        string[] first = paths[0].Split('+');
        var root = JsonNode.Parse(File.ReadAllText(first[0]))!.AsObject();
        foreach (string more in first.Skip(1))
        {
            foreach (var extra in JsonNode.Parse(File.ReadAllText(more))!["results"]!.AsArray().ToArray())
            {
                root["results"]!.AsArray().Add(extra!.DeepClone());
            }
        }

        foreach (var node in root["results"]!.AsArray())
        {
            var e = node!.AsObject();
            var key = ((string)e["model"]!, (int)e["batch"]!, e["threads"] is JsonNode t ? (int)t : 1);
            double[] medians = rounds.Where(r => r.ContainsKey(key)).Select(r => r[key].Median).ToArray();
            double median = Median(medians);
            e["median_us"] = Math.Round(median, 3);
            e["min_us"] = Math.Round(rounds.Where(r => r.ContainsKey(key)).Min(r => r[key].Min), 3);
            e["imgs_per_s"] = Math.Round(key.Item2 / (median / 1e6), 3);
            if (e["flops"] is JsonNode flops)
            {
                e["gflops"] = Math.Round((double)flops * key.Item2 / (median * 1e3), 3);
            }

            e["round_median_us"] = new JsonArray(medians.Select(m => (JsonNode)Math.Round(m, 3)).ToArray());
        }

        root["rounds"] = paths.Count;
        File.WriteAllText(output, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static double Num(JsonElement e, string name)
    {
        var p = e.GetProperty(name);
        return p.ValueKind == JsonValueKind.Number ? p.GetDouble() : double.NaN;
    }

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        int n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>Percent of a peak, or "-" where the peak was not measured (Vector512 not accelerated).</summary>
    private static string Percent(double gflops, double peak) =>
        double.IsFinite(peak) && peak > 0 ? (100 * gflops / peak).ToString("F0", Inv) + "%" : "-";

    private static string Range(IReadOnlyList<double> values, string format) =>
        values.Count < 2 ? "" : values.Min().ToString(format, Inv) + "-" + values.Max().ToString(format, Inv);

    /// <summary>
    /// The Markdown table of CnnGen versus ONNX Runtime (ratio = CnnGen median time / ORT median time, lower is better),
    /// with the targets, from one or more interleaved rounds (round i of CnnGen ran just before round i of ORT). Each
    /// time is the median of the rounds' medians with the range of those medians; the ratio is the ratio of those
    /// medians, its range that of the per-round ratios. Targets are judged on the median ratio of the rows of the default
    /// width (the widest the process accelerates, i.e. the first width measured); other widths are shown for
    /// information. Merged files (the rounds' medians) are written when <paramref name="mergedCnnGen"/> /
    /// <paramref name="mergedOrt"/> are given. Returns the number of missed targets.
    /// </summary>
    public static int CompareTable(IReadOnlyList<string> cnngenJsons, IReadOnlyList<string> ortJsons, TextWriter o, string? mergedCnnGen = null, string? mergedOrt = null)
    {
        var runs = cnngenJsons.Select(ReadCnnGen).Select(r => (r.Peak256, r.Peak512, Results: r.Results.FindAll(x => x.Mode == "predict"))).ToArray(); // training entries have their own table
        var orts = ortJsons.Select(ReadOrt).ToArray();
        double p256 = Median(runs.Select(r => r.Peak256).ToArray()), p512 = Median(runs.Select(r => r.Peak512).ToArray());
        var points = runs.SelectMany(r => r.Results).Select(r => (r.Model, r.Batch, r.Threads, r.Vector)).Distinct().ToArray();
        string? primary = points.Length > 0 ? points[0].Vector : null;
        o.WriteLine(string.Format(Inv, "FMA peak of this core (measured in the same run{0}): Vector256 {1:F1} GFLOP/s, Vector512 {2}",
            runs.Length > 1 ? string.Format(Inv, ", median of {0} rounds", runs.Length) : "", p256,
            double.IsFinite(p512) ? p512.ToString("F1", Inv) + " GFLOP/s" : "not accelerated"));
        if (primary == "V256")
        {
            o.WriteLine("Targets on Vector256 are issue 11's (vgg_block and cifar_resnet8 <= 0.9 at batch 1 and 64, mobilenet_block <= 0.6 at batch 1, every model <= 1.0 at batch 64).");
        }
        if (runs.Length > 1 || orts.Length > 1)
        {
            o.WriteLine();
            o.WriteLine(string.Format(Inv,
                "{0} CnnGen and {1} ONNX Runtime rounds, interleaved (CnnGen, ORT, CnnGen, ORT...): times are the median of the rounds' medians with their range; " +
                "the ratio is CnnGen median / ORT median, its range that of the per-round ratios; targets are judged on the median ratio.",
                runs.Length, orts.Length));
        }

        o.WriteLine();
        o.WriteLine("| model | batch | thr | width | CnnGen median us | CnnGen range us | CnnGen min us | ORT median us | ORT range us | ratio | ratio range | target | met | img/s | GFLOP/s | % V256 peak | % V512 peak | bytes/call |");
        o.WriteLine("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|");
        int missed = 0;
        var merged = new List<Result>();
        var mergedRounds = new Dictionary<Result, double[]>();
        foreach (var (model, batch, threads, vector) in points)
        {
            var per = runs.Select(r => r.Results.FirstOrDefault(x => x.Model == model && x.Batch == batch && x.Threads == threads && x.Vector == vector)).ToArray();
            double[] medians = per.Where(x => x is not null).Select(x => x!.MedianUs).ToArray();
            double median = Median(medians);
            double min = per.Where(x => x is not null).Min(x => x!.MinUs);
            double allocated = per.Where(x => x is not null).Max(x => x!.AllocatedBytesPerCall);
            double gflops = per.First(x => x is not null)!.Gflops * per.First(x => x is not null)!.MedianUs / median;
            var r = new Result(model, batch, threads, median, min, batch / (median / 1e6), gflops, allocated, vector);
            merged.Add(r);
            mergedRounds[r] = medians;

            var key = (model, batch, threads);
            double[] ortMedians = orts.Where(m => m.ContainsKey(key)).Select(m => m[key].Median).ToArray();
            bool hasOrt = ortMedians.Length > 0;
            double ortMedian = Median(ortMedians);
            double ratio = hasOrt ? median / ortMedian : double.NaN;
            double[] ratios = Enumerable.Range(0, Math.Min(per.Length, orts.Length))
                .Where(i => per[i] is not null && orts[i].ContainsKey(key))
                .Select(i => per[i]!.MedianUs / orts[i][key].Median).ToArray();
            double target = Target(model, batch, vector);
            string targetText = "", met = "";
            bool judged = threads == 1 || (threads == 2 && batch == 1 && ModelInfo.Zoo.Any(z => z.Name == model));
            if (vector == primary && judged && double.IsFinite(target) && hasOrt)
            {
                targetText = "<= " + target.ToString("0.0#", Inv);
                bool ok = ratio <= target && allocated == 0;
                met = ok ? (ratios.All(x => x <= target) ? "yes" : "yes (not every round)") : ratio <= target ? "no (allocates)" : "**no**";
                missed += ok ? 0 : 1;
            }

            o.WriteLine(string.Format(Inv,
                "| {0} | {1} | {2} | {3} | {4:F1} | {5} | {6:F1} | {7} | {8} | {9} | {10} | {11} | {12} | {13:N0} | {14:F1} | {15} | {16} | {17:0} |",
                model, batch, threads, vector, median, Range(medians, "F1"), min,
                hasOrt ? ortMedian.ToString("F1", Inv) : "-", Range(ortMedians, "F1"), hasOrt ? ratio.ToString("F2", Inv) : "-", Range(ratios, "F2"),
                targetText, met, r.ImgsPerS, r.Gflops, Percent(r.Gflops, p256), Percent(r.Gflops, p512), allocated));
        }

        o.WriteLine();
        o.WriteLine(missed == 0
            ? "All targets met (ratio targets on the default width, one thread (zoo networks: also two threads on one image), and 0 bytes allocated per call)."
            : string.Format(Inv, "{0} target(s) missed (ratio targets on the default width {1}, one thread (zoo networks: also two threads on one image), and 0 bytes allocated per call).", missed, primary));
        if (mergedCnnGen is not null)
        {
            WriteJson(mergedCnnGen, p256, p512, merged, mergedRounds);
        }

        if (mergedOrt is not null && ortJsons.Count > 0)
        {
            MergeOrt(ortJsons, mergedOrt);
        }

        return missed;
    }

    /// <summary>A fixed-width line for the console table.</summary>
    public static string ConsoleLine(Result r, double p256, double p512)
    {
        var sb = new StringBuilder();
        sb.Append(r.Model.PadRight(16));
        sb.Append(r.Vector.PadLeft(5));
        sb.Append(r.Batch.ToString(Inv).PadLeft(6));
        sb.Append(r.Threads.ToString(Inv).PadLeft(4));
        sb.Append(r.MedianUs.ToString("F1", Inv).PadLeft(12));
        sb.Append(r.MinUs.ToString("F1", Inv).PadLeft(12));
        sb.Append(r.ImgsPerS.ToString("F0", Inv).PadLeft(11));
        sb.Append(r.Gflops.ToString("F1", Inv).PadLeft(9));
        sb.Append((100 * r.Gflops / p256).ToString("F0", Inv).PadLeft(7)).Append('%');
        sb.Append((100 * r.Gflops / p512).ToString("F0", Inv).PadLeft(7)).Append('%');
        sb.Append(r.AllocatedBytesPerCall.ToString("F0", Inv).PadLeft(9));
        return sb.ToString();
    }

    public const string ConsoleHeader =
        "model           width batch thr   median_us      min_us      img/s  GFLOP/s  %V256   %V512  B/call";

}
