using System;
using System.Globalization;
using System.IO;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Mnist;

/// <summary>What a training loop tells the display: epoch starts, batches done, finished epochs.</summary>
public interface IEpochObserver
{
    void EpochStarted(int epoch);

    /// <summary>After every batch (see <see cref="INetworkTrainer.TrainEpoch"/>).</summary>
    void Batch(BatchProgress progress);

    /// <summary>After the epoch's test evaluation.</summary>
    void EpochDone(EpochRecord record);
}

/// <summary>
/// Shows a network's training: a live display on a terminal (Spectre.Console: the table of finished epochs
/// growing above a progress line with batches done, running loss, images/s and time left), or plain lines
/// when the output is redirected or not a terminal (a progress line at each quarter of an epoch, then the epoch's
/// row).
/// </summary>
public abstract class TrainingDisplay
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    protected TrainingDisplay(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        Time = time;
    }

    protected TimeProvider Time { get; }

    /// <summary>
    /// The live display when <paramref name="stdout"/> is the process's console output, not redirected, and
    /// Spectre.Console finds it interactive with ANSI support; plain lines otherwise.
    /// </summary>
    public static TrainingDisplay For(TextWriter stdout)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        if (ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected)
        {
            IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            if (console.Profile.Capabilities.Ansi && console.Profile.Capabilities.Interactive)
            {
                return new LiveTable(console, TimeProvider.System);
            }
        }

        return new PlainLines(stdout, TimeProvider.System);
    }

    /// <summary>Plain lines on <paramref name="writer"/>.</summary>
    public static TrainingDisplay Lines(TextWriter writer, TimeProvider? time = null) => new PlainLines(writer, time ?? TimeProvider.System);

    /// <summary>The live display on <paramref name="console"/>.</summary>
    public static TrainingDisplay Live(IAnsiConsole console, TimeProvider? time = null) => new LiveTable(console, time ?? TimeProvider.System);

    /// <summary>Shows <paramref name="run"/> while <paramref name="body"/> trains it, reporting to the observer it is given.</summary>
    public abstract void Train(TrainingRun run, Action<IEpochObserver> body);

    /// <summary>"LeNet-5 (CNN): adam, lr 0.001; 10 epochs of 125 batches of 64 (8,000 digits), 2 threads, seed 2026".</summary>
    public static string Heading(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        TrainSettings s = run.Settings;
        return $"{run.Title}: {s.Describe()}; {s.Epochs.ToString(Inv)} epoch{(s.Epochs == 1 ? string.Empty : "s")} of "
            + $"{run.BatchesPerEpoch.ToString("N0", Inv)} batches of {s.BatchSize.ToString(Inv)} ({run.TrainingImages.ToString("N0", Inv)} digits), "
            + $"{s.Threads.ToString(Inv)} thread{(s.Threads == 1 ? string.Empty : "s")}, seed {s.Seed.ToString(Inv)}";
    }

    /// <summary>The columns of an epoch row.</summary>
    public static readonly string[] Columns = ["epoch", "loss", "train acc", "test acc", "time"];

    /// <summary>The cells of an epoch row: "3", "0.2004", "94.12%", "94.70%", "1.95 s".</summary>
    public static string[] Cells(EpochRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return
        [
            record.Epoch.ToString(Inv),
            record.Loss.ToString("0.0000", Inv),
            Percent(record.TrainAccuracy),
            Percent(record.TestAccuracy),
            record.Seconds.ToString("0.00", Inv) + " s",
        ];
    }

    /// <summary>"62/125 batches, loss 0.2134, 4,120 images/s, 0:02 left" after <paramref name="elapsed"/> of the epoch.</summary>
    public static string Progress(BatchProgress p, TimeSpan elapsed)
    {
        double seconds = elapsed.TotalSeconds;
        string rate = seconds > 0 ? (p.Images / seconds).ToString("N0", Inv) : "-";
        string left = p.Batch > 0 && seconds > 0 ? Duration(TimeSpan.FromSeconds(seconds * (p.Batches - p.Batch) / p.Batch)) : "-";
        return $"{p.Batch.ToString(Inv)}/{p.Batches.ToString(Inv)} batches, loss {p.RunningLoss.ToString("0.0000", Inv)}, {rate} images/s, {left} left";
    }

    /// <summary>"0:07", "12:30", "1:02:03".</summary>
    public static string Duration(TimeSpan t)
    {
        long s = (long)Math.Ceiling(t.TotalSeconds);
        return s >= 3600
            ? string.Create(Inv, $"{s / 3600}:{s / 60 % 60:00}:{s % 60:00}")
            : string.Create(Inv, $"{s / 60}:{s % 60:00}");
    }

    private static string Percent(double fraction) => string.Create(Inv, $"{fraction * 100:0.00}%");

    /// <summary>Plain lines: the heading, the column header, a progress line per quarter epoch, the epoch rows.</summary>
    private sealed class PlainLines(TextWriter writer, TimeProvider time) : TrainingDisplay(time), IEpochObserver
    {
        private static readonly int[] Widths = [5, 8, 9, 8, 8];
        private long _epochStart;
        private int _quarter;
        private int _epochs;

        public override void Train(TrainingRun run, Action<IEpochObserver> body)
        {
            ArgumentNullException.ThrowIfNull(run);
            ArgumentNullException.ThrowIfNull(body);
            _epochs = run.Settings.Epochs;
            writer.WriteLine(Heading(run));
            writer.WriteLine(Row(Columns));
            body(this);
            writer.Flush();
        }

        public void EpochStarted(int epoch)
        {
            _epochStart = Time.GetTimestamp();
            _quarter = 0;
        }

        public void Batch(BatchProgress progress)
        {
            int quarter = progress.Batches > 0 ? 4 * progress.Batch / progress.Batches : 0;
            if (quarter > _quarter && progress.Batch < progress.Batches)
            {
                _quarter = quarter;
                writer.WriteLine($"  ... epoch {progress.Epoch.ToString(Inv)}/{_epochs.ToString(Inv)}: {Progress(progress, Time.GetElapsedTime(_epochStart))}");
                writer.Flush();
            }
        }

        public void EpochDone(EpochRecord record)
        {
            writer.WriteLine(Row(Cells(record)));
            writer.Flush();
        }

        private static string Row(string[] cells)
        {
            var parts = new string[cells.Length];
            for (int i = 0; i < cells.Length; i++)
            {
                parts[i] = cells[i].PadLeft(Widths[i]);
            }

            return "  " + string.Join("  ", parts);
        }
    }

    /// <summary>Spectre.Console's live display: the epochs table and, under it, the progress of the running epoch.</summary>
    private sealed class LiveTable(IAnsiConsole console, TimeProvider time) : TrainingDisplay(time)
    {
        /// <summary>Shortest time between two redraws while batches run.</summary>
        public static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(100);

        public override void Train(TrainingRun run, Action<IEpochObserver> body)
        {
            ArgumentNullException.ThrowIfNull(run);
            ArgumentNullException.ThrowIfNull(body);
            var heading = new Text(Heading(run));
            var table = new Table().Border(TableBorder.Rounded);
            foreach (string column in Columns)
            {
                table.AddColumn(new TableColumn(new Text(column)).RightAligned());
            }

            console.Live(new Rows(heading, table, Text.Empty))
                .AutoClear(false)
                .Overflow(VerticalOverflow.Ellipsis)
                .Start(ctx => body(new Observer(this, ctx, heading, table, run.Settings.Epochs)));
        }

        private sealed class Observer(LiveTable display, LiveDisplayContext ctx, Text heading, Table table, int epochs) : IEpochObserver
        {
            private long _epochStart;
            private long _lastDraw;

            public void EpochStarted(int epoch)
            {
                _epochStart = display.Time.GetTimestamp();
                _lastDraw = 0;
                Draw(Status(epoch, 0, 1, "starting"));
            }

            public void Batch(BatchProgress progress)
            {
                long now = display.Time.GetTimestamp();
                if (progress.Batch < progress.Batches && _lastDraw != 0 && display.Time.GetElapsedTime(_lastDraw, now) < RefreshInterval)
                {
                    return;
                }

                _lastDraw = now;
                Draw(Status(progress.Epoch, progress.Batch, progress.Batches, Progress(progress, display.Time.GetElapsedTime(_epochStart, now))));
            }

            public void EpochDone(EpochRecord record)
            {
                table.AddTextRow(Cells(record));
                Draw(record.Epoch < epochs ? Text.Empty : new Markup("[green]done[/]"));
            }

            private IRenderable Status(int epoch, int batch, int batches, string text)
            {
                const int barWidth = 30;
                int filled = batches > 0 ? (int)Math.Round((double)barWidth * batch / batches) : 0;
                return new Markup(
                    $"epoch {epoch.ToString(Inv)}/{epochs.ToString(Inv)} [green]{new string('━', filled)}[/][grey]{new string('━', barWidth - filled)}[/] {Markup.Escape(text)}");
            }

            private void Draw(IRenderable status)
            {
                ctx.UpdateTarget(new Rows(heading, table, status)); // redraws
            }
        }
    }
}
