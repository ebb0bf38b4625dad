using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mnist;

/// <summary>The default command: accuracy, agreement with PyTorch, size, cost, latency, summaries and the comparison.</summary>
public static class RunCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>What one network did on the test digits.</summary>
    public sealed record Result(Model Model, int Correct, int Count, int? PyTorchCorrect, int? Agreements, int FirstDisagreement, Latency Latency)
    {
        public double Accuracy => (double)Correct / Count;
    }

    public static int Execute(Options options, TextWriter stdout, TextWriter stderr, StartupClock clock)
    {
        DataFolder data = options.Data();
        WeightsSource weights = options.Weights(data);

        // Time to first prediction: weights loaded, test digits read, one digit classified.
        Model lenet = Model.Load("lenet5", weights, options.LoadOptions);
        DigitSet test = DigitSet.LoadTest(data);
        Span<float> first = stackalloc float[10];
        lenet.Network.Predict(test.Input(0), first);
        string firstPrediction = clock.Describe();
        int firstClass = Model.ArgMax(first);

        Model mlp = Model.Load("mlp", weights, options.LoadOptions);

        stdout.WriteLine("CnnGen MNIST sample: LeNet-5 (a CNN) versus a 784-128-64-10 fully connected network");
        stdout.WriteLine();
        stdout.WriteLine($"runtime:   {RuntimeDescription()}");
        stdout.WriteLine($"SIMD:      {SimdDescription(lenet.Network.VectorWidth)}");
        stdout.WriteLine($"data:      {data.Path} ({test.Count.ToString("N0", Inv)} MNIST test digits, 28x28)");
        if (weights.Folder is not null)
        {
            stdout.WriteLine($"weights:   {weights.Folder} ("
                + (lenet.HasPyTorchWeights && mlp.HasPyTorchWeights
                    ? "PyTorch's, as in the data folder)"
                    : "not PyTorch's: agreement with PyTorch's predictions is not checked)"));
        }

        stdout.WriteLine($"time to first prediction: {firstPrediction} (LeNet-5 weights and the test digits loaded, digit #0 classified as {firstClass})");

        Result[] results = [Evaluate(lenet, test, data, options), Evaluate(mlp, test, data, options)];

        foreach (Result r in results)
        {
            stdout.WriteLine();
            stdout.WriteLine($"== {r.Model.Title} ==");
            stdout.WriteLine();
            stdout.WriteLine(r.Model.Summary);
            stdout.WriteLine();
            stdout.WriteLine($"test accuracy:   {Percent(r.Accuracy)} ({r.Correct.ToString("N0", Inv)}/{r.Count.ToString("N0", Inv)} digits)"
                + (r.PyTorchCorrect is int pc ? $"; PyTorch: {Percent((double)pc / r.Count)}" : string.Empty));
            stdout.WriteLine(r.Agreements is int a
                ? $"agrees with PyTorch on {a}/{r.Count} digits" + (a == r.Count ? string.Empty : $" (first difference: digit #{r.FirstDisagreement})")
                : r.Model.HasPyTorchWeights
                    ? $"PyTorch's predictions ({r.Model.PredictionsFile}) not found: agreement not checked"
                    : $"weights:         {r.Model.WeightsPath ?? "trained in this process"} (not PyTorch's)");
            stdout.WriteLine($"parameters:      {r.Model.Parameters.ToString("N0", Inv)}");
            stdout.WriteLine($"FLOPs per digit: {r.Model.Flops.ToString("N0", Inv)}");
            stdout.WriteLine($"latency:         {Us(r.Latency.MedianMicroseconds)} per digit, median of {r.Latency.Runs.ToString("N0", Inv)} single-digit Predict calls"
                + $" (10th-90th percentile {Us(r.Latency.P10Microseconds)} - {Us(r.Latency.P90Microseconds)}), vector width {r.Model.Network.VectorWidth}");
        }

        stdout.WriteLine();
        WriteComparison(stdout, results[0], results[1]);

        int status = 0;
        foreach (Result r in results)
        {
            if (r.Agreements is int a && a != r.Count)
            {
                stdout.Flush();
                stderr.WriteLine($"error: {r.Model.Title} disagrees with PyTorch on {r.Count - a} of {r.Count} digits (first: digit #{r.FirstDisagreement})");
                status = 2;
            }
        }

        return status;
    }

    /// <summary>
    /// Classifies every test digit (one batch), compares with the labels and, for PyTorch's weights, with PyTorch's
    /// predictions, then times single digits.
    /// </summary>
    public static Result Evaluate(Model model, DigitSet test, DataFolder data, Options options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        int n = test.Count;
        int classes = model.Network.OutputSize;
        var probabilities = new float[n * classes];
        model.Network.PredictBatch(test.Inputs, probabilities, n);
        var predicted = new int[n];
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            predicted[i] = Model.ArgMax(probabilities.AsSpan(i * classes, classes));
            correct += predicted[i] == test.Labels[i] ? 1 : 0;
        }

        int? pytorchCorrect = null, agreements = null;
        int firstDisagreement = -1;
        string predictionsPath = data.File(model.PredictionsFile);
        if (model.HasPyTorchWeights && File.Exists(predictionsPath))
        {
            int[] reference = DigitSet.ReadPredictions(predictionsPath, n);
            int pc = 0, agree = 0;
            for (int i = 0; i < n; i++)
            {
                pc += reference[i] == test.Labels[i] ? 1 : 0;
                if (reference[i] == predicted[i])
                {
                    agree++;
                }
                else if (firstDisagreement < 0)
                {
                    firstDisagreement = i;
                }
            }

            pytorchCorrect = pc;
            agreements = agree;
        }

        Latency latency = Timing.MeasureLatency(model.Network, test, options.Runs, options.WarmupMs);
        return new Result(model, correct, n, pytorchCorrect, agreements, firstDisagreement, latency);
    }

    /// <summary>The table a reader of the CNN literature asks for: fewer parameters, higher accuracy.</summary>
    public static void WriteComparison(TextWriter stdout, Result cnn, Result mlp)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(cnn);
        ArgumentNullException.ThrowIfNull(mlp);
        stdout.WriteLine("== CNN versus fully connected ==");
        stdout.WriteLine();
        var table = ConsoleTables.Create(string.Empty, cnn.Model.Title, mlp.Model.Title, "CNN relative to MLP");
        table.AddTextRow(
            "parameters",
            cnn.Model.Parameters.ToString("N0", Inv),
            mlp.Model.Parameters.ToString("N0", Inv),
            $"{Ratio(cnn.Model.Parameters, mlp.Model.Parameters)} ({Change(cnn.Model.Parameters, mlp.Model.Parameters)})");
        table.AddTextRow(
            "test accuracy",
            Percent(cnn.Accuracy),
            Percent(mlp.Accuracy),
            string.Create(Inv, $"{(cnn.Accuracy - mlp.Accuracy) * 100:+0.00;-0.00} points"));
        int cnnErrors = cnn.Count - cnn.Correct, mlpErrors = mlp.Count - mlp.Correct;
        table.AddTextRow(
            $"errors on {cnn.Count.ToString("N0", Inv)} digits",
            cnnErrors.ToString("N0", Inv),
            mlpErrors.ToString("N0", Inv),
            mlpErrors > 0 ? $"{Ratio(cnnErrors, mlpErrors)} ({Change(cnnErrors, mlpErrors)})" : "-");
        if (cnn.Agreements is not null || mlp.Agreements is not null)
        {
            table.AddTextRow(
                "agrees with PyTorch",
                Agreement(cnn),
                Agreement(mlp),
                string.Empty);
        }

        table.AddTextRow(
            "FLOPs per digit",
            cnn.Model.Flops.ToString("N0", Inv),
            mlp.Model.Flops.ToString("N0", Inv),
            Ratio(cnn.Model.Flops, mlp.Model.Flops));
        table.AddTextRow(
            "median latency per digit",
            Us(cnn.Latency.MedianMicroseconds),
            Us(mlp.Latency.MedianMicroseconds),
            Ratio(cnn.Latency.MedianMicroseconds, mlp.Latency.MedianMicroseconds));
        ConsoleTables.Write(stdout, table);
        stdout.WriteLine();

        bool fewer = cnn.Model.Parameters < mlp.Model.Parameters;
        bool better = cnn.Correct > mlp.Correct;
        double fewerPercent = (1 - (double)cnn.Model.Parameters / mlp.Model.Parameters) * 100;
        if (fewer && better)
        {
            stdout.WriteLine(string.Create(Inv, $"The CNN has {fewerPercent:0}% fewer parameters and {(cnn.Accuracy - mlp.Accuracy) * 100:0.00} points higher accuracy")
                + $" ({cnnErrors} instead of {mlpErrors} errors) than the fully connected network:");
            stdout.WriteLine("its convolutions share small filters across the whole image. It pays with "
                + Ratio(cnn.Model.Flops, mlp.Model.Flops) + " the FLOPs per digit.");
        }
        else
        {
            stdout.WriteLine("Unexpected: the CNN does not have both fewer parameters and higher accuracy than the fully connected network.");
        }
    }

    public static string RuntimeDescription()
    {
        // NativeAOT compiles nothing at run time. (RuntimeFeature.IsDynamicCodeSupported is no test: PublishAot in the
        // project turns it off for the JIT build too, so that build behaves as the AOT binary will.)
        string mode = System.Runtime.JitInfo.GetCompiledMethodCount() > 0 ? "JIT" : "NativeAOT";
        return $"{RuntimeInformation.FrameworkDescription}, {mode}, {RuntimeInformation.RuntimeIdentifier}, {Environment.ProcessorCount} cores";
    }

    public static string SimdDescription(CnnGen.VectorWidth running) =>
        $"running {running} kernels (hardware-accelerated: Vector128 {YesNo(Vector128.IsHardwareAccelerated)},"
        + $" Vector256 {YesNo(Vector256.IsHardwareAccelerated)}, Vector512 {YesNo(Vector512.IsHardwareAccelerated)})";

    private static string YesNo(bool b) => b ? "yes" : "no";

    private static string Agreement(Result r) => r.Agreements is int a ? $"{a}/{r.Count}" : "not checked";

    public static string Percent(double fraction) => string.Create(Inv, $"{fraction * 100:0.00}%");

    public static string Us(double microseconds) => string.Create(Inv, $"{microseconds:0.00} µs");

    private static string Ratio(double a, double b) => string.Create(Inv, $"{a / b:0.00}x");

    private static string Change(double a, double b) => string.Create(Inv, $"{(a / b - 1) * 100:+0;-0}%");
}
