using System;
using System.Collections.Generic;
using System.Linq;
using Mnist;

namespace CnnGen.Tests.Sample;

[TestFixture]
public class TrainingChartTests
{
    // LeNet-5: PyTorch's first four epochs of the recipe (shared/training/lenet5_trajectory/golden.json), rounded;
    // the MLP's curve is made up, far enough from it that no marker hides another.
    private static readonly (double Loss, double Accuracy)[] LeNet = [(1.0031, 0.8715), (0.3132, 0.9175), (0.2004, 0.9470), (0.1429, 0.9495)];
    private static readonly (double Loss, double Accuracy)[] Mlp = [(0.80, 0.8565), (0.45, 0.8900), (0.35, 0.9100), (0.30, 0.9300)];

    private static TrainingRun Run(string key, (double Loss, double Accuracy)[] epochs)
    {
        var run = new TrainingRun(key, Model.TitleOf(key), new TrainSettings(key, epochs.Length, 64, OptimizerKind.Adam, 1e-3, 0, 0, 1, 1), 8000);
        for (int i = 0; i < epochs.Length; i++)
        {
            run.Add(new EpochRecord(i + 1, epochs[i].Loss, 0.9, epochs[i].Accuracy, 2.0));
        }

        return run;
    }

    [TestCase(0.0, 1.0031, 0.0, 1.5, 0.5)]
    [TestCase(86.65, 100.0, 85.0, 100.0, 5.0)]
    [TestCase(0.0, 0.0, 0.0, 1.0, 0.2)]
    [TestCase(0.0, 7.3, 0.0, 8.0, 2.0)]
    [TestCase(99.0, 100.0, 99.0, 100.0, 0.2)]
    public void Axis_Nice_CoversTheRangeWithRoundTicks(double low, double high, double min, double max, double step)
    {
        Axis axis = Axis.Nice(low, high);

        Assert.Multiple(() =>
        {
            Assert.That(axis.Min, Is.EqualTo(min).Within(1e-9));
            Assert.That(axis.Max, Is.EqualTo(max).Within(1e-9));
            Assert.That(axis.Step, Is.EqualTo(step).Within(1e-9));
            Assert.That(axis.Ticks().First(), Is.EqualTo(min).Within(1e-9));
            Assert.That(axis.Ticks().Last(), Is.EqualTo(max).Within(1e-9));
        });
    }

    [Test]
    public void Render_PlotsEveryEpochOfBothNetworks_InTheirColors()
    {
        TrainingRun[] runs = [Run("lenet5", LeNet), Run("mlp", Mlp)];

        RgbCanvas canvas = TrainingChart.Render(runs);
        var (loss, accuracy) = TrainingChart.Layout(runs);

        Assert.That((canvas.Width, canvas.Height), Is.EqualTo((TrainingChart.Width, TrainingChart.Height)));
        Assert.That(loss.Right, Is.LessThan(accuracy.Left), "side by side");
        Assert.That(loss.YAxis, Is.EqualTo(new Axis(0, 1.5, 0.5)));
        Assert.That(accuracy.YAxis, Is.EqualTo(new Axis(85, 100, 5)));
        for (int n = 0; n < runs.Length; n++)
        {
            var color = TrainingChart.Colors[n];
            foreach (EpochRecord e in runs[n].Epochs)
            {
                // The marker's centre: drawn after every line, so it shows the network's own color.
                Assert.That(canvas.GetPixel(loss.X(e.Epoch), loss.Y(e.Loss)), Is.EqualTo(color), $"{runs[n].Key} loss, epoch {e.Epoch}");
                Assert.That(canvas.GetPixel(accuracy.X(e.Epoch), accuracy.Y(e.TestAccuracy * 100)), Is.EqualTo(color), $"{runs[n].Key} accuracy, epoch {e.Epoch}");
            }

            // Half-way between epochs 1 and 2 the line passes (within its 3-pixel pen).
            int x = (loss.X(1) + loss.X(2)) / 2;
            double y = (loss.Y(runs[n].Epochs[0].Loss) + loss.Y(runs[n].Epochs[1].Loss)) / 2.0;
            Assert.That(Column(canvas, x, (int)y - 12, (int)y + 12), Does.Contain(color), $"{runs[n].Key} line");
        }

        // Axis lines, tick labels left of the plot and under it, and a legend with both colors under the panels.
        var ink = (R: (byte)30, G: (byte)30, B: (byte)30);
        Assert.That(Column(canvas, loss.Left, loss.Top, loss.Bottom).Distinct(), Is.EquivalentTo(new[] { ink }), "y axis");
        Assert.That(Region(canvas, 0, loss.Top - 8, loss.Left - 8, loss.Bottom + 8), Does.Contain(ink), "value labels");
        Assert.That(Region(canvas, loss.Left, loss.Bottom + 8, loss.Right, loss.Bottom + 60), Does.Contain(ink), "epoch labels");
        HashSet<(byte, byte, byte)> legend = Region(canvas, 0, loss.Bottom + 60, canvas.Width, canvas.Height);
        Assert.That(legend, Does.Contain(TrainingChart.Colors[0]).And.Contain(TrainingChart.Colors[1]).And.Contain(ink));
    }

    [Test]
    public void Render_OneNetworkOneEpoch_AndAPngThatDecodes()
    {
        TrainingRun run = Run("mlp", [(0.5, 0.9)]);

        RgbCanvas canvas = TrainingChart.Render([run]);
        var (loss, _) = TrainingChart.Layout([run]);
        GrayImage decoded = Png.Decode(canvas.EncodePng());

        Assert.That(loss.X(1), Is.EqualTo(loss.Left + loss.Width / 2));
        Assert.That(canvas.GetPixel(loss.X(1), loss.Y(0.5)), Is.EqualTo(TrainingChart.Colors[0]));
        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((canvas.Width, canvas.Height)));
        Assert.That(Region(canvas, 0, 0, canvas.Width, canvas.Height), Does.Not.Contain(TrainingChart.Colors[1]));
    }

    [Test]
    public void Render_RejectsNoNetworks()
    {
        Assert.Throws<ArgumentException>(() => TrainingChart.Render([]));
    }

    private static List<(byte, byte, byte)> Column(RgbCanvas canvas, int x, int y0, int y1)
    {
        var colors = new List<(byte, byte, byte)>();
        for (int y = Math.Max(0, y0); y <= Math.Min(canvas.Height - 1, y1); y++)
        {
            colors.Add(canvas.GetPixel(x, y));
        }

        return colors;
    }

    private static HashSet<(byte, byte, byte)> Region(RgbCanvas canvas, int x0, int y0, int x1, int y1)
    {
        var colors = new HashSet<(byte, byte, byte)>();
        for (int y = Math.Max(0, y0); y < Math.Min(canvas.Height, y1); y++)
        {
            for (int x = Math.Max(0, x0); x < Math.Min(canvas.Width, x1); x++)
            {
                colors.Add(canvas.GetPixel(x, y));
            }
        }

        return colors;
    }
}
