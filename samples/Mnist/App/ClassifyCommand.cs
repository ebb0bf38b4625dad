using System;
using System.Globalization;
using System.IO;
using Spectre.Console;

namespace Mnist;

/// <summary><c>classify FILE</c>: a user's own digit picture through MNIST preprocessing and one network.</summary>
public static class ClassifyCommand
{
    public static int Execute(Options options, TextWriter stdout, StartupClock clock)
    {
        string file = options.File ?? throw new UsageException("classify needs an image file");
        GrayImage image = ImageLoader.Load(file);
        float[] input;
        try
        {
            input = DigitPreprocessor.ToMnist(image);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{file}: {e.Message}", e);
        }

        DataFolder data = options.Data();
        Model model = Model.Load(options.Net, options.Weights(data), options.LoadOptions);
        var probabilities = new float[model.Network.OutputSize];
        model.Network.Predict(input, probabilities);
        string timing = clock.Describe();
        int best = Model.ArgMax(probabilities);

        stdout.WriteLine($"image:      {file} ({image.Width} x {image.Height} pixels), preprocessed to 28 x 28 as MNIST digits are");
        stdout.WriteLine($"network:    {model.Title}, {model.Network.VectorWidth} kernels"
            + (model.HasPyTorchWeights ? string.Empty : $", weights {model.WeightsPath}"));
        stdout.WriteLine($"prediction: {best} ({RunCommand.Percent(probabilities[best])})");
        stdout.WriteLine();
        var table = ConsoleTables.Create("digit", "probability", string.Empty);
        table.Columns[2].LeftAligned();
        for (int d = 0; d < probabilities.Length; d++)
        {
            float p = probabilities[d];
            string bar = new string('#', (int)MathF.Round(Math.Clamp(p, 0f, 1f) * 40));
            table.AddTextRow(
                d == best ? $"{d} <" : d.ToString(CultureInfo.InvariantCulture),
                RunCommand.Percent(p),
                bar);
        }

        ConsoleTables.Write(stdout, table);
        stdout.WriteLine();
        stdout.WriteLine($"first prediction: {timing}");
        return 0;
    }
}
