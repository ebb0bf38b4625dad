using System;
using System.Collections.Generic;
using System.Globalization;

namespace Mnist;

/// <summary>One panel of <see cref="TrainingChart"/>: a plot area and the mapping from data to pixels.</summary>
public sealed class ChartPanel
{
    internal ChartPanel(string title, int left, int top, int width, int height, int epochs, Axis y)
    {
        Title = title;
        Left = left;
        Top = top;
        Width = width;
        Height = height;
        Epochs = epochs;
        YAxis = y;
    }

    public string Title { get; }

    /// <summary>The plot area (inside the axes), in pixels.</summary>
    public int Left { get; }
    public int Top { get; }
    public int Width { get; }
    public int Height { get; }

    public int Epochs { get; }

    /// <summary>The value axis: range and tick step.</summary>
    public Axis YAxis { get; }

    public int Right => Left + Width;
    public int Bottom => Top + Height;

    /// <summary>Pixels between the axis and the first epoch, and between the last epoch and the right end.</summary>
    public const int Inset = 16;

    /// <summary>The pixel column of <paramref name="epoch"/> (1..Epochs; a single epoch sits in the middle).</summary>
    public int X(double epoch) =>
        Epochs == 1 ? Left + Width / 2 : Left + Inset + (int)Math.Round((epoch - 1) / (Epochs - 1) * (Width - 2 * Inset));

    /// <summary>The pixel row of <paramref name="value"/>.</summary>
    public int Y(double value) =>
        Bottom - (int)Math.Round((value - YAxis.Min) / (YAxis.Max - YAxis.Min) * Height);
}

/// <summary>An axis range with "nice" ticks (1, 2 or 5 times a power of ten).</summary>
public readonly record struct Axis(double Min, double Max, double Step)
{
    /// <summary>Ticks from <see cref="Min"/> to <see cref="Max"/>.</summary>
    public IEnumerable<double> Ticks()
    {
        int n = (int)Math.Round((Max - Min) / Step);
        for (int i = 0; i <= n; i++)
        {
            yield return Min + i * Step;
        }
    }

    /// <summary>A range covering <paramref name="low"/>..<paramref name="high"/> with at most about <paramref name="ticks"/> ticks.</summary>
    public static Axis Nice(double low, double high, int ticks = 5)
    {
        if (!double.IsFinite(low) || !double.IsFinite(high))
        {
            low = 0;
            high = 1;
        }

        if (high <= low)
        {
            high = low + (low == 0 ? 1 : Math.Abs(low) * 0.1);
        }

        double raw = (high - low) / Math.Max(1, ticks);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = magnitude * (raw / magnitude <= 1 ? 1 : raw / magnitude <= 2 ? 2 : raw / magnitude <= 5 ? 5 : 10);
        return new Axis(Math.Floor(low / step + 1e-9) * step, Math.Ceiling(high / step - 1e-9) * step, step);
    }
}

/// <summary>
/// The PNG <c>train</c> writes: training loss (left) and test accuracy (right) per epoch, one colored line per network,
/// with axes, ticks, grid lines, labels and a legend; drawn on an <see cref="RgbCanvas"/> with the 5x7 font.
/// </summary>
public static class TrainingChart
{
    public const int Width = 1000;
    public const int Height = 470;

    /// <summary>Pixel size of a font pixel in labels.</summary>
    public const int FontScale = 2;

    /// <summary>The line colors, one per network in order.</summary>
    public static readonly (byte R, byte G, byte B)[] Colors = [(31, 119, 180), (230, 110, 10), (44, 160, 44), (214, 39, 40)];

    private const int PanelWidth = Width / 2;
    private const int MarginLeft = 90, MarginRight = 30, MarginTop = 44, MarginBottom = 70;
    private const int LegendHeight = 40;
    private static readonly (byte R, byte G, byte B) Ink = (30, 30, 30);
    private static readonly (byte R, byte G, byte B) Grid = (225, 225, 225);

    /// <summary>The two panels the chart of <paramref name="runs"/> has: loss, then test accuracy (in percent).</summary>
    public static (ChartPanel Loss, ChartPanel Accuracy) Layout(IReadOnlyList<TrainingRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        int epochs = 1;
        double maxLoss = 0, minAccuracy = 100;
        foreach (TrainingRun run in runs)
        {
            epochs = Math.Max(epochs, run.Epochs.Count);
            foreach (EpochRecord e in run.Epochs)
            {
                maxLoss = Math.Max(maxLoss, Finite(e.Loss));
                minAccuracy = Math.Min(minAccuracy, Finite(e.TestAccuracy) * 100);
            }
        }

        int plotWidth = PanelWidth - MarginLeft - MarginRight;
        int plotHeight = Height - LegendHeight - MarginTop - MarginBottom;
        var loss = new ChartPanel("training loss", MarginLeft, MarginTop, plotWidth, plotHeight, epochs, Axis.Nice(0, maxLoss));
        var accuracy = new ChartPanel(
            "test accuracy (%)", PanelWidth + MarginLeft, MarginTop, plotWidth, plotHeight, epochs, Axis.Nice(Math.Min(minAccuracy, 99), 100));
        return (loss, accuracy);
    }

    /// <summary>Draws the chart of <paramref name="runs"/> (at least one, each with at least one epoch).</summary>
    public static RgbCanvas Render(IReadOnlyList<TrainingRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0 || runs.Count > Colors.Length)
        {
            throw new ArgumentException($"the chart draws 1 to {Colors.Length} networks, got {runs.Count}", nameof(runs));
        }

        var canvas = new RgbCanvas(Width, Height);
        canvas.Fill(255, 255, 255);
        var (lossPanel, accuracyPanel) = Layout(runs);
        DrawFrame(canvas, lossPanel, "{0:0.##}");
        DrawFrame(canvas, accuracyPanel, "{0:0.#}");
        for (int n = 0; n < runs.Count; n++)
        {
            var color = Colors[n];
            DrawSeries(canvas, lossPanel, runs[n].Epochs, e => e.Loss, color);
            DrawSeries(canvas, accuracyPanel, runs[n].Epochs, e => e.TestAccuracy * 100, color);
        }

        DrawLegend(canvas, runs);
        return canvas;
    }

    private static void DrawFrame(RgbCanvas canvas, ChartPanel p, string tickFormat)
    {
        int glyphH = Font5x7.GlyphHeight * FontScale;

        // Horizontal grid lines and value ticks.
        foreach (double tick in p.YAxis.Ticks())
        {
            int y = p.Y(tick);
            canvas.DrawLine(p.Left, y, p.Right, y, Grid.R, Grid.G, Grid.B);
            canvas.DrawLine(p.Left - 6, y, p.Left, y, Ink.R, Ink.G, Ink.B);
            string label = string.Format(CultureInfo.InvariantCulture, tickFormat, tick);
            canvas.DrawText(p.Left - 10 - Font5x7.MeasureWidth(label) * FontScale, y - glyphH / 2, label, Ink.R, Ink.G, Ink.B, FontScale);
        }

        // Epoch ticks: every epoch, or every 2, 5, 10, ... when there are many.
        int step = (int)Math.Max(1, Axis.Nice(0, p.Epochs, 10).Step);
        for (int epoch = 1; epoch <= p.Epochs; epoch++)
        {
            if (epoch != 1 && epoch % step != 0)
            {
                continue;
            }

            int x = p.X(epoch);
            canvas.DrawLine(x, p.Bottom, x, p.Bottom + 6, Ink.R, Ink.G, Ink.B);
            string label = epoch.ToString(CultureInfo.InvariantCulture);
            canvas.DrawText(x - Font5x7.MeasureWidth(label) * FontScale / 2, p.Bottom + 10, label, Ink.R, Ink.G, Ink.B, FontScale);
        }

        // Axes, the axis label and the title.
        canvas.DrawLine(p.Left, p.Top, p.Left, p.Bottom, Ink.R, Ink.G, Ink.B, thickness: 2);
        canvas.DrawLine(p.Left, p.Bottom, p.Right, p.Bottom, Ink.R, Ink.G, Ink.B, thickness: 2);
        const string xLabel = "epoch";
        canvas.DrawText(p.Left + (p.Width - Font5x7.MeasureWidth(xLabel) * FontScale) / 2, p.Bottom + 20 + glyphH, xLabel, Ink.R, Ink.G, Ink.B, FontScale);
        canvas.DrawText(p.Left + (p.Width - Font5x7.MeasureWidth(p.Title) * FontScale) / 2, p.Top - 16 - glyphH / 2, p.Title, Ink.R, Ink.G, Ink.B, FontScale);
    }

    private static void DrawSeries(RgbCanvas canvas, ChartPanel p, IReadOnlyList<EpochRecord> epochs, Func<EpochRecord, double> value, (byte R, byte G, byte B) c)
    {
        for (int i = 0; i < epochs.Count; i++)
        {
            int x = p.X(epochs[i].Epoch), y = p.Y(Finite(value(epochs[i])));
            if (i > 0)
            {
                canvas.DrawLine(p.X(epochs[i - 1].Epoch), p.Y(Finite(value(epochs[i - 1]))), x, y, c.R, c.G, c.B, thickness: 3);
            }
        }

        foreach (EpochRecord e in epochs)
        {
            canvas.FillRect(p.X(e.Epoch) - 4, p.Y(Finite(value(e))) - 4, 9, 9, c.R, c.G, c.B);
        }
    }

    private static void DrawLegend(RgbCanvas canvas, IReadOnlyList<TrainingRun> runs)
    {
        const int swatch = 30, gap = 12, spacing = 40;
        int total = 0;
        foreach (TrainingRun run in runs)
        {
            total += swatch + gap + Font5x7.MeasureWidth(run.Title) * FontScale + spacing;
        }

        int x = (Width - (total - spacing)) / 2;
        int y = Height - LegendHeight / 2 - 8;
        for (int n = 0; n < runs.Count; n++)
        {
            var c = Colors[n];
            int textY = y - Font5x7.GlyphHeight * FontScale / 2;
            canvas.DrawLine(x, y, x + swatch, y, c.R, c.G, c.B, thickness: 3);
            canvas.FillRect(x + swatch / 2 - 4, y - 4, 9, 9, c.R, c.G, c.B);
            canvas.DrawText(x + swatch + gap, textY, runs[n].Title, Ink.R, Ink.G, Ink.B, FontScale);
            x += swatch + gap + Font5x7.MeasureWidth(runs[n].Title) * FontScale + spacing;
        }
    }

    private static double Finite(double v) => double.IsFinite(v) ? v : 0;
}
