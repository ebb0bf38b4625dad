using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

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

    /// <summary>Writes <c>{"peak_gflops": {"v256", "v512"}, "results": [...]}</c> with exactly the issue's names.</summary>
    public static void WriteJson(string path, double peak256, double peak512, IEnumerable<Result> results)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("peak_gflops");
        WriteNumber(w, "v256", peak256);
        WriteNumber(w, "v512", peak512);
        w.WriteEndObject();
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
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        var peak = root.GetProperty("peak_gflops");
        var list = new List<Result>();
        foreach (var e in root.GetProperty("results").EnumerateArray())
        {
            list.Add(new Result(
                e.GetProperty("model").GetString()!, e.GetProperty("batch").GetInt32(), e.GetProperty("threads").GetInt32(),
                Num(e, "median_us"), Num(e, "min_us"), Num(e, "imgs_per_s"), Num(e, "gflops"),
                Num(e, "allocated_bytes_per_call"), e.GetProperty("vector").GetString()!,
                e.TryGetProperty("mode", out var mode) ? mode.GetString()! : "predict"));
        }

        return (Num(peak, "v256"), Num(peak, "v512"), list);
    }

    /// <summary>ort_bench.js's JSON: (model, batch) -> (median_us, min_us).</summary>
    public static Dictionary<(string, int), (double Median, double Min)> ReadOrt(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var map = new Dictionary<(string, int), (double, double)>();
        foreach (var e in doc.RootElement.GetProperty("results").EnumerateArray())
        {
            map[(e.GetProperty("model").GetString()!, e.GetProperty("batch").GetInt32())] = (Num(e, "median_us"), Num(e, "min_us"));
        }

        return map;
    }

    private static double Num(JsonElement e, string name)
    {
        var p = e.GetProperty(name);
        return p.ValueKind == JsonValueKind.Number ? p.GetDouble() : double.NaN;
    }

    /// <summary>
    /// The Markdown table of CnnGen versus ONNX Runtime (ratio = CnnGen median time / ORT median time, lower is better),
    /// with the targets. Targets are judged on the rows of the default width (the widest the CPU accelerates,
    /// i.e. the first width measured); other widths are shown for information. Returns the number of missed targets.
    /// </summary>
    public static int CompareTable(string cnngenJson, string ortJson, TextWriter o)
    {
        var (p256, p512, all) = ReadCnnGen(cnngenJson);
        var results = all.FindAll(r => r.Mode == "predict");
        var ort = ReadOrt(ortJson);
        string? primary = results.Count > 0 ? results[0].Vector : null;
        o.WriteLine(string.Format(Inv, "FMA peak of this core (measured in the same run): Vector256 {0:F1} GFLOP/s, Vector512 {1:F1} GFLOP/s", p256, p512));
        o.WriteLine();
        o.WriteLine("| model | batch | thr | width | CnnGen median us | CnnGen min us | ORT median us | ratio | target | met | img/s | GFLOP/s | % V256 peak | % V512 peak | bytes/call |");
        o.WriteLine("|---|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|");
        int missed = 0;
        foreach (var r in results)
        {
            bool hasOrt = ort.TryGetValue((r.Model, r.Batch), out var ortT);
            double ratio = hasOrt ? r.MedianUs / ortT.Median : double.NaN;
            double target = r.Batch == 1 ? Batch1Targets.GetValueOrDefault(r.Model, double.NaN) : Batch64Target;
            string targetText = "", met = "";
            if (r.Vector == primary && r.Threads == 1 && double.IsFinite(target) && hasOrt)
            {
                targetText = "<= " + target.ToString("0.0#", Inv);
                bool ok = ratio <= target && r.AllocatedBytesPerCall == 0;
                met = ok ? "yes" : ratio <= target ? "no (allocates)" : "**no**";
                missed += ok ? 0 : 1;
            }

            o.WriteLine(string.Format(Inv,
                "| {0} | {1} | {2} | {3} | {4:F1} | {5:F1} | {6} | {7} | {8} | {9} | {10:N0} | {11:F1} | {12:F0}% | {13:F0}% | {14:0} |",
                r.Model, r.Batch, r.Threads, r.Vector, r.MedianUs, r.MinUs,
                hasOrt ? ortT.Median.ToString("F1", Inv) : "-", hasOrt ? ratio.ToString("F2", Inv) : "-",
                targetText, met, r.ImgsPerS, r.Gflops, 100 * r.Gflops / p256, 100 * r.Gflops / p512, r.AllocatedBytesPerCall));
        }

        o.WriteLine();
        o.WriteLine(missed == 0
            ? "All targets met (ratio targets on the default width, one thread, and 0 bytes allocated per call)."
            : string.Format(Inv, "{0} target(s) missed (ratio targets on the default width {1}, one thread, and 0 bytes allocated per call).", missed, primary));
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
