using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Mnist;
using Spectre.Console;

namespace CnnGen.Tests.Sample;

[TestFixture]
public class TrainingDisplayTests
{
    private static TrainingRun NewRun(int epochs = 2) =>
        new("lenet5", "LeNet-5 (CNN)", new TrainSettings("lenet5", epochs, 64, OptimizerKind.Adam, 1e-3, 0, 0, 2, 2026), 8000);

    /// <summary>Two epochs of 125 batches, each batch taking 20 ms on <paramref name="time"/> (3,200 images/s).</summary>
    private static void TrainTwoEpochs(TrainingRun run, IEpochObserver observer, ManualTime time)
    {
        for (int epoch = 1; epoch <= 2; epoch++)
        {
            observer.EpochStarted(epoch);
            for (int b = 1; b <= 125; b++)
            {
                time.Advance(TimeSpan.FromMilliseconds(20));
                observer.Batch(new BatchProgress(epoch, b, 125, Math.Min(64 * b, 8000), 1.0 / epoch));
            }

            var record = new EpochRecord(epoch, 1.0 / epoch, 0.8 + 0.1 * epoch, 0.85 + 0.05 * epoch, 2.5);
            run.Add(record);
            observer.EpochDone(record);
        }
    }

    [Test]
    public void Plain_PrintsHeadingColumnsQuarterProgressAndRows()
    {
        var time = new ManualTime();
        using var writer = new StringWriter();
        TrainingRun run = NewRun();

        TrainingDisplay.Lines(writer, time).Train(run, observer => TrainTwoEpochs(run, observer, time));

        string[] lines = writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Is.EqualTo(new[]
        {
            "LeNet-5 (CNN): adam, lr 0.001; 2 epochs of 125 batches of 64 (8,000 digits), 2 threads, seed 2026",
            "  epoch      loss  train acc  test acc      time",
            "  ... epoch 1/2: 32/125 batches, loss 1.0000, 3,200 images/s, 0:02 left",
            "  ... epoch 1/2: 63/125 batches, loss 1.0000, 3,200 images/s, 0:02 left",
            "  ... epoch 1/2: 94/125 batches, loss 1.0000, 3,200 images/s, 0:01 left",
            "      1    1.0000     90.00%    90.00%    2.50 s",
            "  ... epoch 2/2: 32/125 batches, loss 0.5000, 3,200 images/s, 0:02 left",
            "  ... epoch 2/2: 63/125 batches, loss 0.5000, 3,200 images/s, 0:02 left",
            "  ... epoch 2/2: 94/125 batches, loss 0.5000, 3,200 images/s, 0:01 left",
            "      2    0.5000    100.00%    95.00%    2.50 s",
        }));
    }

    [Test]
    public void Live_DrawsTheGrowingTableAndTheProgressLine()
    {
        var time = new ManualTime();
        using var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.TrueColor,
            Interactive = InteractionSupport.Yes,
        });
        console.Profile.Width = 140;
        TrainingRun run = NewRun();

        TrainingDisplay.Live(console, time).Train(run, observer => TrainTwoEpochs(run, observer, time));

        string raw = writer.ToString();
        string text = Regex.Replace(raw, @"\x1b\[[0-9;?]*[A-Za-z]", string.Empty);
        Assert.Multiple(() =>
        {
            Assert.That(raw, Does.Contain("\x1b["), "ANSI: colors and cursor movement");
            Assert.That(text, Does.Contain("LeNet-5 (CNN): adam, lr 0.001; 2 epochs of 125 batches"));
            Assert.That(text, Does.Contain("train acc").And.Contain("test acc"));
            Assert.That(text, Does.Contain("epoch 1/2").And.Contain("batches, loss 1.0000, 3,200 images/s").And.Contain("left"));
            Assert.That(text, Does.Contain("125/125 batches"), "the last batch is always drawn");
            Assert.That(text, Does.Contain("90.00%").And.Contain("95.00%").And.Contain("2.50 s"));
            Assert.That(text, Does.Contain("done"));
            // 20 ms per batch and at most one redraw per 100 ms: about 125 * 20 / 100 = 25 progress redraws per epoch, not 125.
            int redraws = Regex.Matches(text, @"\d+/125 batches").Count;
            Assert.That(redraws, Is.InRange(40, 60));
        });
    }

    [Test]
    public void For_AWriterThatIsNotTheConsole_IsPlain()
    {
        using var writer = new StringWriter();
        TrainingRun run = NewRun(epochs: 1);

        TrainingDisplay.For(writer).Train(run, observer =>
        {
            observer.EpochStarted(1);
            var record = new EpochRecord(1, 0.5, 0.9, 0.95, 1.0);
            run.Add(record);
            observer.EpochDone(record);
        });

        Assert.That(writer.ToString(), Does.StartWith("LeNet-5 (CNN): adam, lr 0.001; 1 epoch of 125 batches").And.Not.Contain("\x1b["));
    }

    [TestCase(0.0, "0:00")]
    [TestCase(7.2, "0:08")]
    [TestCase(750.0, "12:30")]
    [TestCase(3723.0, "1:02:03")]
    public void Duration_Formats(double seconds, string expected) =>
        Assert.That(TrainingDisplay.Duration(TimeSpan.FromSeconds(seconds)), Is.EqualTo(expected));

    [Test]
    public void Progress_ReportsRateAndTimeLeft()
    {
        Assert.Multiple(() =>
        {
            Assert.That(
                TrainingDisplay.Progress(new BatchProgress(1, 25, 100, 1600, 0.12345), TimeSpan.FromSeconds(2)),
                Is.EqualTo("25/100 batches, loss 0.1235, 800 images/s, 0:06 left"));
            Assert.That(
                TrainingDisplay.Progress(new BatchProgress(1, 0, 100, 0, 0), TimeSpan.Zero),
                Is.EqualTo("0/100 batches, loss 0.0000, - images/s, - left"));
        });
    }
}

[TestFixture]
public class TrainingReportTests
{
    [Test]
    public void Json_HasExactlyTheIssuesSchema()
    {
        var run = new TrainingRun("mlp", "MLP 784-128-64-10", new TrainSettings("mlp", 2, 64, OptimizerKind.Sgd, 0.05, 0.9, 0, 2, 2026), 8000);
        run.Add(new EpochRecord(1, 0.9236, 0.7712, 0.8665, 0.25));
        run.Add(new EpochRecord(2, 0.2814, 0.9158, 0.9180, 0.75));

        string json = TrainingReport.From([run]).ToJson();

        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.That(root.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "networks" }));
        var network = root.GetProperty("networks").EnumerateArray().Single();
        Assert.That(
            network.EnumerateObject().Select(p => p.Name),
            Is.EqualTo(new[] { "name", "epochs", "batch", "optimizer", "test_accuracy", "train_seconds", "images_per_s", "epochs_log" }));
        Assert.Multiple(() =>
        {
            Assert.That(network.GetProperty("name").GetString(), Is.EqualTo("mlp"));
            Assert.That(network.GetProperty("epochs").GetInt32(), Is.EqualTo(2));
            Assert.That(network.GetProperty("batch").GetInt32(), Is.EqualTo(64));
            Assert.That(network.GetProperty("optimizer").GetString(), Is.EqualTo("sgd"));
            Assert.That(network.GetProperty("test_accuracy").GetDouble(), Is.EqualTo(0.9180), "a fraction, the last epoch's");
            Assert.That(network.GetProperty("train_seconds").GetDouble(), Is.EqualTo(1.0));
            Assert.That(network.GetProperty("images_per_s").GetDouble(), Is.EqualTo(16000.0));
        });
        var epochs = network.GetProperty("epochs_log").EnumerateArray().ToArray();
        Assert.That(epochs, Has.Length.EqualTo(2));
        Assert.That(epochs[1].EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "epoch", "loss", "train_accuracy", "test_accuracy", "seconds" }));
        Assert.Multiple(() =>
        {
            Assert.That(epochs[1].GetProperty("epoch").GetInt32(), Is.EqualTo(2));
            Assert.That(epochs[1].GetProperty("loss").GetDouble(), Is.EqualTo(0.2814));
            Assert.That(epochs[1].GetProperty("train_accuracy").GetDouble(), Is.EqualTo(0.9158));
            Assert.That(epochs[1].GetProperty("test_accuracy").GetDouble(), Is.EqualTo(0.9180));
            Assert.That(epochs[1].GetProperty("seconds").GetDouble(), Is.EqualTo(0.75));
            Assert.That(TrainingReport.Parse(json).Networks.Single().EpochsLog[0].Loss, Is.EqualTo(0.9236), "round trip");
        });
    }
}
