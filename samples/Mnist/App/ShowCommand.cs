using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using CnnGen;

namespace Mnist;

/// <summary><c>show</c>: pictures of what the networks do, written as PNG files.</summary>
public static class ShowCommand
{
    public const int GridDigits = 20;

    public static readonly string[] Files =
    [
        "digits.png", "mistakes.png", "conv1_filters.png", "conv2_filters.png", "digit.png", "conv1_maps.png", "conv2_maps.png",
    ];

    public static int Execute(Options options, TextWriter stdout)
    {
        DataFolder data = options.Data();
        string weightsPath = options.Weights(data).Require("lenet5");
        DigitSet test = DigitSet.LoadTest(data);
        if (options.Digit >= test.Count)
        {
            throw new UsageException($"--digit {options.Digit} is out of range: the test set has digits 0..{test.Count - 1}");
        }

        // One weights file (PyTorch's or a training run's), three networks: LeNet-5 and its two prefixes, which
        // leave the later layers' tensors unread: Strict = false, whatever the default becomes.
        TensorSet weights = TensorSet.LoadSafeTensors(weightsPath);
        LeNet5 lenet;
        LeNet5Conv1 conv1;
        LeNet5Conv2 conv2;
        try
        {
            lenet = LeNet5.Load(weights, options.LoadOptions);
            var prefixOptions = new LoadOptions { VectorWidth = options.Width, Strict = false };
            conv1 = LeNet5Conv1.Load(weights, prefixOptions);
            conv2 = LeNet5Conv2.Load(weights, prefixOptions);
        }
        catch (WeightsException e) when (!e.Message.StartsWith(weightsPath, StringComparison.Ordinal))
        {
            throw new WeightsException($"{weightsPath}: {e.Message}", e.TensorName, e);
        }

        string outDir = Path.GetFullPath(options.OutDir);
        Directory.CreateDirectory(outDir);
        var written = new List<(string File, string What)>();

        void Save(RgbCanvas canvas, string name, string what)
        {
            canvas.SavePng(Path.Combine(outDir, name));
            written.Add((name, what));
        }

        // Digits with predictions, and the digits LeNet-5 gets wrong.
        var probabilities = new float[10];
        var digits = new List<float[]>();
        var captions = new List<string>();
        var correct = new List<bool>();
        var wrongDigits = new List<float[]>();
        var wrongCaptions = new List<string>();
        int wrongTotal = 0;
        for (int i = 0; i < test.Count; i++)
        {
            lenet.Predict(test.Input(i), probabilities);
            int p = Model.ArgMax(probabilities);
            if (i < GridDigits)
            {
                digits.Add(test.InputArray(i));
                captions.Add(string.Create(CultureInfo.InvariantCulture, $"{p} {probabilities[p] * 100:0}%"));
                correct.Add(p == test.Labels[i]);
            }

            if (p != test.Labels[i])
            {
                wrongTotal++;
                if (wrongDigits.Count < GridDigits)
                {
                    wrongDigits.Add(test.InputArray(i));
                    wrongCaptions.Add($"{p}/{test.Labels[i]}");
                }
            }
        }

        Save(Render.DigitsGrid(digits, captions, correct, scale: 6, columns: 10), "digits.png",
            $"the first {digits.Count} test digits with LeNet-5's prediction and probability (green right, red wrong)");
        if (wrongDigits.Count > 0)
        {
            Save(Render.DigitsGrid(wrongDigits, wrongCaptions, null, scale: 6, columns: 10), "mistakes.png",
                $"{wrongDigits.Count} of the {wrongTotal} digits LeNet-5 gets wrong, captioned predicted/true");
        }

        // First- and second-layer filters (PyTorch layout [out, in, kh, kw]).
        Tensor w1 = weights.Get("conv1.weight");
        Save(Render.Filters(w1.Data, w1.Shape[0], w1.Shape[1], w1.Shape[2], w1.Shape[3], scale: 12, columns: 6), "conv1_filters.png",
            $"conv1's {w1.Shape[0]} filters, {w1.Shape[2]}x{w1.Shape[3]} (red positive, blue negative)");
        Tensor w2 = weights.Get("conv2.weight");
        Save(Render.Filters(w2.Data, w2.Shape[0], w2.Shape[1], w2.Shape[2], w2.Shape[3], scale: 5, columns: 4), "conv2_filters.png",
            $"conv2's {w2.Shape[0]} filters, each {w2.Shape[1]} kernels of {w2.Shape[2]}x{w2.Shape[3]}");

        // One digit through the convolution layers.
        int k = options.Digit;
        ReadOnlySpan<float> input = test.Input(k);
        lenet.Predict(input, probabilities);
        int predicted = Model.ArgMax(probabilities);
        Save(Render.Gray(DigitPreprocessor.FromMnist(input), scale: 8), "digit.png",
            $"test digit #{k} (label {test.Labels[k]}, LeNet-5 says {predicted})");
        float[] maps1 = conv1.Predict(input);
        Save(Render.FeatureMaps(maps1, 6, 28, 28, scale: 4, columns: 6), "conv1_maps.png",
            $"conv1 + ReLU feature maps of digit #{k}: 6 x 28x28");
        float[] maps2 = conv2.Predict(input);
        Save(Render.FeatureMaps(maps2, 16, 10, 10, scale: 8, columns: 8), "conv2_maps.png",
            $"conv2 + ReLU feature maps of digit #{k}: 16 x 10x10");

        stdout.WriteLine($"wrote {written.Count} pictures to {outDir} (LeNet-5 weights: {weightsPath}):");
        WriteLeftAligned(stdout, written);
        return 0;
    }

    private static void WriteLeftAligned(TextWriter stdout, List<(string File, string What)> rows)
    {
        int width = 0;
        foreach (var (file, _) in rows)
        {
            width = Math.Max(width, file.Length);
        }

        foreach (var (file, what) in rows)
        {
            stdout.WriteLine($"  {file.PadRight(width)}  {what}");
        }
    }
}
