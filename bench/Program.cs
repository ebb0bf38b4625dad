using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.Intrinsics;
using CnnGen.Tests.Zoo;

namespace CnnGen.Bench;

/// <summary>
/// dotnet run -c Release --project bench/CnnGen.Bench.csproj -- [--models a,b] [--batch 1,64] [--threads N]
///     [--parallel bench|generated] [--width auto|128|256|512[,...]] [--seconds S] [--json PATH] [--compare ORT.json]
/// dotnet run -c Release --project bench/CnnGen.Bench.csproj -- --report CNNGEN.json --compare ORT.json
/// </summary>
internal static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Largest error allowed against golden_output.bin, relative to the largest golden value.</summary>
    private const double Tolerance = 1e-3;

    private static int Main(string[] args)
    {
        try
        {
            return Run(Options.Parse(args));
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            Console.Error.WriteLine(Options.Usage);
            return 2;
        }
    }

    private static int Run(Options opt)
    {
        if (opt.TrainReport is not null)
        {
            return TrainBench.CompareTable(opt.TrainReport, opt.Torch ?? throw new ArgumentException("--train-report needs --torch T1.json[,T2.json...]"), Console.Out) == 0 ? 0 : 3;
        }

        if (opt.Train)
        {
            return TrainBench.Run(opt);
        }

        if (opt.Report is not null)
        {
            if (opt.Compare is null)
            {
                throw new ArgumentException("--report needs --compare ORT.json");
            }

            // Several comma-separated files are interleaved rounds; --json / --ort-json write the merged files.
            Report.CompareTable(Files(opt.Report), Files(opt.Compare), Console.Out, opt.Json, opt.OrtJson);
            return 0;
        }

        Console.WriteLine(string.Format(Inv, "CnnGen bench: .NET {0}, {1}, Vector512 {2}, Vector256 {3}, threads {4}, {5} s per point",
            Environment.Version, System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            Vector512.IsHardwareAccelerated ? "accelerated" : "not accelerated",
            Vector256.IsHardwareAccelerated ? "accelerated" : "not accelerated", opt.Threads, opt.Seconds));

        double p256 = FmaPeak.Measure256(), p512 = FmaPeak.Measure512();
        Console.WriteLine(string.Format(Inv, "FMA peak of this core: Vector256 {0:F1} GFLOP/s, Vector512 {1:F1} GFLOP/s", p256, p512));
        Console.WriteLine();

        var results = new List<Result>();
        var failures = new List<string>();
        foreach (var model in ModelInfo.All.Where(m => opt.Models is null ? !m.IsZoo : opt.Models.Contains(m.Name)))
        {
            foreach (var width in opt.Widths)
            {
                INetwork net;
                try
                {
                    net = model.Load(new LoadOptions { VectorWidth = width, Strict = true });
                }
                catch (Exception e) when (e is WeightsException or ArgumentException or NotSupportedException)
                {
                    failures.Add(string.Format(Inv, "{0} ({1}): load failed: {2}", model.Name, width, e.Message));
                    Console.Error.WriteLine("FAIL " + failures[^1]);
                    continue;
                }

                string vector = Name(net.VectorWidth);
                if (opt.Alignment)
                {
                    Console.WriteLine(Diagnostics.Alignment(net));
                }

                if (!(model.IsZoo ? VerifyZoo(model, net, vector, failures) : Verify(model, net, vector, failures)))
                {
                    continue;
                }

                float[] golden = model.GoldenInput();
                int goldenCount = golden.Length / net.InputSize;
                // A zoo network runs batch 1 unless --batch says otherwise (batch 64 of VGG-16 is a teraflop per call).
                foreach (int batch in model.IsZoo && !opt.BatchesGiven ? [1] : opt.Batches)
                {
                    var inputs = new float[batch * net.InputSize];
                    for (int i = 0; i < batch; i++)
                    {
                        Array.Copy(golden, (i % goldenCount) * net.InputSize, inputs, i * net.InputSize, net.InputSize);
                    }

                    var outputs = new float[batch * net.OutputSize];
                    using var runner = new BatchRunner(net, inputs, outputs, batch, opt.Threads, opt.GeneratedParallel);
                    var t = Timer.Measure(runner.Run, opt.Seconds, model.IsZoo ? 5 : batch == 1 ? 200 : 10);

                    runner.ResetAllocated();
                    const int allocCalls = 20;
                    for (int i = 0; i < allocCalls; i++)
                    {
                        runner.Run();
                    }

                    double allocated = runner.Allocated / (double)allocCalls;
                    var r = new Result(model.Name, batch, runner.Threads, t.MedianUs, t.MinUs,
                        batch / (t.MedianUs / 1e6), model.Flops * (double)batch / (t.MedianUs * 1e3), allocated, vector);
                    results.Add(r);
                    if (results.Count == 1)
                    {
                        Console.WriteLine(Report.ConsoleHeader);
                    }

                    Console.WriteLine(Report.ConsoleLine(r, p256, p512));
                }
            }
        }

        if (opt.Json is not null)
        {
            Report.WriteJson(opt.Json, p256, p512, results);
            Console.WriteLine("wrote " + opt.Json);
        }

        if (opt.Compare is not null && opt.Json is not null)
        {
            Console.WriteLine();
            Report.CompareTable([opt.Json], Files(opt.Compare), Console.Out);
        }

        if (failures.Count > 0)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine(string.Format(Inv, "{0} network(s) FAILED and were not timed:", failures.Count));
            foreach (var f in failures)
            {
                Console.Error.WriteLine("  " + f);
            }

            return 1;
        }

        return 0;
    }

    /// <summary>Runs the golden inputs through the network and compares with PyTorch's golden outputs.</summary>
    private static bool Verify(ModelInfo model, INetwork net, string vector, List<string> failures)
    {
        float[] input = model.GoldenInput(), expected = model.GoldenOutput();
        int count = input.Length / net.InputSize;
        if (count * net.InputSize != input.Length || count * net.OutputSize != expected.Length)
        {
            failures.Add(string.Format(Inv, "{0} ({1}): golden files hold {2} / {3} floats, not a whole number of {4} / {5}",
                model.Name, vector, input.Length, expected.Length, net.InputSize, net.OutputSize));
            Console.Error.WriteLine("FAIL " + failures[^1]);
            return false;
        }

        var got = new float[expected.Length];
        net.PredictBatch(input, got, count);
        var one = new float[net.OutputSize];
        net.Predict(input.AsSpan(0, net.InputSize), one);

        double maxErr = 0, maxRef = 0;
        int worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = Math.Abs((double)got[i] - expected[i]);
            if (!(e <= maxErr))
            {
                maxErr = double.IsNaN(e) ? double.PositiveInfinity : e;
                worst = i;
            }

            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
        }

        double maxErrSingle = 0;
        for (int i = 0; i < one.Length; i++)
        {
            maxErrSingle = Math.Max(maxErrSingle, Math.Abs((double)one[i] - got[i]));
        }

        double rel = maxErr / Math.Max(maxRef, 1e-30);
        bool ok = rel <= Tolerance && maxErrSingle == 0;
        Console.WriteLine(string.Format(Inv,
            "check {0,-16} {1,-5} {2} golden images: max|err| {3:E2} (relative to max|golden| {4:E2}: {5:E2}); Predict == PredictBatch: {6}  {7}",
            model.Name, vector, count, maxErr, maxRef, rel, maxErrSingle == 0 ? "yes" : "NO", ok ? "ok" : "FAIL"));
        if (!ok)
        {
            failures.Add(string.Format(Inv,
                "{0} ({1}): output differs from golden_output.bin: max|err| {2:E3} at index {3} (image {4}, output {5}: got {6}, expected {7}), relative {8:E2} > {9:E0}; Predict vs PredictBatch max diff {10:E2}",
                model.Name, vector, maxErr, worst, worst / net.OutputSize, worst % net.OutputSize, got[worst], expected[worst], rel, Tolerance, maxErrSingle));
            Console.Error.WriteLine("FAIL " + failures[^1]);
        }

        return ok;
    }

    /// <summary>
    /// Runs a zoo network on the zoo's two formula images and compares with PyTorch's float64 outputs: the zoo's
    /// tolerance, max(2e-4, 10 x PyTorch's own float32 error), and PyTorch's class for each image.
    /// </summary>
    private static bool VerifyZoo(ModelInfo model, INetwork net, string vector, List<string> failures)
    {
        var zoo = ZooModel.Load(model.Name);
        double[] expected = zoo.GoldenFloat64();
        float[] input = model.GoldenInput();
        var got = new float[expected.Length];
        net.PredictBatch(input, got, ZooModel.Images);
        double maxErr = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = Math.Abs(got[i] - expected[i]);
            maxErr = double.IsNaN(e) ? double.PositiveInfinity : Math.Max(maxErr, e);
        }

        var classes = Enumerable.Range(0, ZooModel.Images).Select(i => ArgMax(got.AsSpan(i * net.OutputSize, net.OutputSize))).ToArray();
        bool ok = maxErr <= zoo.Tolerance && classes.SequenceEqual(zoo.Argmax);
        Console.WriteLine(string.Format(Inv,
            "check {0,-16} {1,-5} {2} golden images: max|err| vs PyTorch float64 {3:E2} (tolerance {4:E2}); classes {5} (PyTorch {6})  {7}",
            model.Name, vector, ZooModel.Images, maxErr, zoo.Tolerance, string.Join(",", classes), string.Join(",", zoo.Argmax), ok ? "ok" : "FAIL"));
        if (!ok)
        {
            failures.Add(string.Format(Inv, "{0} ({1}): max|err| {2:E3} against golden_output_f64.bin (tolerance {3:E2}), classes {4} (PyTorch {5})",
                model.Name, vector, maxErr, zoo.Tolerance, string.Join(",", classes), string.Join(",", zoo.Argmax)));
            Console.Error.WriteLine("FAIL " + failures[^1]);
        }

        return ok;
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
        {
            if (row[i] > row[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static string[] Files(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Name(VectorWidth w) => w switch
    {
        VectorWidth.V128 => "V128",
        VectorWidth.V256 => "V256",
        VectorWidth.V512 => "V512",
        _ => w.ToString(),
    };
}

/// <summary>The command line.</summary>
internal sealed class Options
{
    public const string Usage =
        "usage: cnngen-bench [--models mlp,lenet5,cifar_resnet8,mobilenet_block,vgg_block] [--batch 1,64] [--threads N]\n" +
        "                    (--models also takes the zoo's alexnet,vgg16,resnet18,resnet50,mobilenet_v2,efficientnet_b0,\n" +
        "                     or zoo for all six: weights from the zoo formula, batch 1 unless --batch is given)\n" +
        "                    (--batch 1 --threads N: one image on N threads, the generated Predict(input, output, threads))\n" +
        "                    [--width auto|128|256|512[,...]] [--seconds S] [--json PATH] [--compare ORT.json]\n" +
        "                    [--alignment]   (prints each weight array's and the workspace's address mod 64)\n" +
        "                    [--parallel bench|generated]   (with --threads N: the bench's own barrier split, or the\n" +
        "                                     generated PredictBatch(ReadOnlyMemory, Memory, batchSize, threads))\n" +
        "       cnngen-bench --report CNNGEN.json[,...] --compare ORT.json[,...] [--json MERGED.json] [--ort-json MERGED_ORT.json]\n" +
        "                    (prints the ratio table only; several files are interleaved rounds: medians and ranges)\n" +
        "       cnngen-bench --train [--models lenet5,mlp,cifar_resnet8_bn] [--batch 64] [--threads 1,2] [--width auto]\n" +
        "                    [--seconds S] [--json PATH] [--profile]   (times training steps; --profile: also each phase)\n" +
        "       cnngen-bench --train-report C1.json,C2.json --torch T1.json,T2.json   (CnnGen / PyTorch training table)";

    public HashSet<string>? Models { get; private set; }
    public int[] Batches { get; private set; } = [1, 64];

    /// <summary>--batch was given (zoo networks otherwise run batch 1 only).</summary>
    public bool BatchesGiven { get; private set; }
    public int Threads => ThreadCounts[0];

    /// <summary>--threads N[,M...]: inference runs the first; --train runs each.</summary>
    public int[] ThreadCounts { get; private set; } = [1];
    public bool Train { get; private set; }
    public bool Profile { get; private set; }
    public string[]? TrainReport { get; private set; }
    public string[]? Torch { get; private set; }
    public VectorWidth[] Widths { get; private set; } = [VectorWidth.Auto];
    public double Seconds { get; private set; } = 2;
    public string? Json { get; private set; }
    public string? Compare { get; private set; }
    public string? Report { get; private set; }
    public string? OrtJson { get; private set; }
    public bool Alignment { get; private set; }
    public bool GeneratedParallel { get; private set; }

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException(args[i] + " needs a value");
            switch (args[i])
            {
                case "--models":
                    o.Models = new HashSet<string>(Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .SelectMany(m => m == "zoo" ? ModelInfo.Zoo.Select(z => z.Name) : [m]));
                    break;
                case "--batch":
                    o.BatchesGiven = true;
                    o.Batches = Value().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    if (o.Batches.Any(b => b < 1))
                    {
                        throw new ArgumentException("batch sizes must be >= 1");
                    }

                    break;
                case "--threads":
                    o.ThreadCounts = Value().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    if (o.ThreadCounts.Any(t => t < 1))
                    {
                        throw new ArgumentException("--threads must be >= 1");
                    }

                    break;
                case "--train":
                    o.Train = true;
                    break;
                case "--profile":
                    o.Profile = true;
                    break;
                case "--train-report":
                    o.TrainReport = Value().Split(',');
                    break;
                case "--torch":
                    o.Torch = Value().Split(',');
                    break;
                case "--width":
                    o.Widths = Value().Split(',').Select(s => s.Trim().ToLowerInvariant() switch
                    {
                        "auto" => VectorWidth.Auto,
                        "128" => VectorWidth.V128,
                        "256" => VectorWidth.V256,
                        "512" => VectorWidth.V512,
                        _ => throw new ArgumentException("--width takes auto, 128, 256 or 512, not '" + s + "'"),
                    }).ToArray();
                    break;
                case "--seconds":
                    o.Seconds = double.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--json":
                    o.Json = Value();
                    break;
                case "--compare":
                    o.Compare = Value();
                    break;
                case "--report":
                    o.Report = Value();
                    break;
                case "--ort-json":
                    o.OrtJson = Value();
                    break;
                case "--parallel":
                    o.GeneratedParallel = Value() switch
                    {
                        "bench" => false,
                        "generated" => true,
                        var v => throw new ArgumentException("--parallel takes bench or generated, not '" + v + "'"),
                    };
                    break;
                case "--alignment":
                    o.Alignment = true;
                    break;
                case "-h":
                case "--help":
                    Console.WriteLine(Usage);
                    Environment.Exit(0);
                    break;
                default:
                    throw new ArgumentException("unknown argument '" + args[i] + "'");
            }
        }

        if (o.Train && !args.Contains("--batch"))
        {
            o.Batches = [64];
        }

        if (o.Models is not null)
        {
            var known = o.Train ? TrainModel.All.Select(x => x.Name) : ModelInfo.All.Select(x => x.Name);
            foreach (var m in o.Models)
            {
                if (!known.Contains(m))
                {
                    throw new ArgumentException("unknown model '" + m + "'; known: " + string.Join(",", known));
                }
            }
        }

        return o;
    }
}
