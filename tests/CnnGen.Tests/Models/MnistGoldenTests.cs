using System;
using System.Linq;
using CnnGen.Tests.Networks;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Models;

/// <summary>LeNet-5 and the MLP against PyTorch: golden outputs within 1e-5 and exactly PyTorch's predictions on all 2,000 test digits.</summary>
[TestFixtureSource(typeof(GeneratorHarnessWidths), nameof(GeneratorHarnessWidths.All))]
public class MnistGoldenTests(VectorWidth width)
{
    private LoadOptions Options => new() { VectorWidth = width };

    [Test]
    public void LeNet5_matches_PyTorch_softmax_on_golden_digits()
    {
        var net = LeNet5.Load(Fixtures.Model("lenet5", "weights.safetensors"), Options);
        Assert.That(net.VectorWidth, Is.EqualTo(width));
        AssertGolden(net, "lenet5", "golden_output.bin");
    }

    [Test]
    public void LeNet5_logits_match_PyTorch()
    {
        var net = LeNet5Logits.Load(Fixtures.Model("lenet5", "weights.safetensors"), Options);
        AssertGolden(net, "lenet5", "golden_logits.bin");
    }

    [Test]
    public void Mlp_matches_PyTorch_softmax_on_golden_digits()
    {
        var net = Mlp.Load(Fixtures.Model("mlp", "weights.safetensors"), Options);
        AssertGolden(net, "mlp", "golden_output.bin");
    }

    [Test]
    public void LeNet5_makes_exactly_PyTorchs_predictions_on_2000_digits()
    {
        var net = LeNet5.Load(Fixtures.Model("lenet5", "weights.safetensors"), Options);
        AssertPredictions(net, "lenet5", expectedAccuracy: 0.9665);
    }

    [Test]
    public void Mlp_makes_exactly_PyTorchs_predictions_on_2000_digits()
    {
        var net = Mlp.Load(Fixtures.Model("mlp", "weights.safetensors"), Options);
        AssertPredictions(net, "mlp", expectedAccuracy: 0.938);
    }

    private static void AssertGolden(INetwork net, string model, string outputFile)
    {
        var input = Fixtures.Floats(Fixtures.Model(model, "golden_input.bin"));
        var expected = Fixtures.Floats(Fixtures.Model(model, outputFile));
        int n = input.Length / net.InputSize;
        var actual = new float[n * net.OutputSize];
        net.PredictBatch(input, actual, n);
        ConformanceCase.AssertClose(expected, actual, 1e-5, 1e-5, $"{model} {outputFile}");

        // Single-image Predict gives the same as the batch.
        var one = new float[net.OutputSize];
        net.Predict(input.AsSpan(0, net.InputSize), one);
        Assert.That(one, Is.EqualTo(actual.AsSpan(0, net.OutputSize).ToArray()));
    }

    private static void AssertPredictions(INetwork net, string model, double expectedAccuracy)
    {
        var (images, labels) = Fixtures.MnistTest();
        var pytorch = Fixtures.Ints(Fixtures.Model(model, "test_predictions.bin"));
        Assert.That(pytorch, Has.Length.EqualTo(2000));
        int agree = 0, correct = 0;
        var disagreements = new System.Collections.Generic.List<string>();
        for (int i = 0; i < labels.Length; i++)
        {
            int predicted = net.Classify(images.AsSpan(i * 784, 784));
            if (predicted == pytorch[i])
            {
                agree++;
            }
            else if (disagreements.Count < 10)
            {
                disagreements.Add($"digit {i}: CnnGen {predicted}, PyTorch {pytorch[i]}");
            }

            correct += predicted == labels[i] ? 1 : 0;
        }

        Assert.That(agree, Is.EqualTo(2000), string.Join("; ", disagreements));
        Assert.That(correct / 2000.0, Is.EqualTo(expectedAccuracy).Within(1e-9));
    }
}

/// <summary>Fixture arguments: every vector width.</summary>
public static class GeneratorHarnessWidths
{
    public static object[] All => Generator.GeneratorHarness.Widths.Select(w => (object)new object[] { w }).ToArray();
}
