using System;
using CnnGen.Tests.Networks;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Models;

/// <summary>The graph networks of ../shared/models against PyTorch's golden outputs (1e-4 relative), on every width.</summary>
[TestFixtureSource(typeof(GeneratorHarnessWidths), nameof(GeneratorHarnessWidths.All))]
public class ReferenceModelTests(VectorWidth width)
{
    private LoadOptions Options => new() { VectorWidth = width };

    [Test]
    public void CifarResNet8_with_folded_batch_norm() =>
        AssertGolden(CifarResNet8.Load(Fixtures.Model("cifar_resnet8", "weights.safetensors"), Options), "cifar_resnet8");

    [Test]
    public void CifarResNet8_with_explicit_batch_norm_folded_at_load() =>
        AssertGolden(CifarResNet8Bn.Load(Fixtures.Model("cifar_resnet8", "weights_bn.safetensors"), Options), "cifar_resnet8");

    [Test]
    public void MobileNetBlock_depthwise_and_pointwise() =>
        AssertGolden(MobileNetBlock.Load(Fixtures.Model("mobilenet_block", "weights.safetensors"), Options), "mobilenet_block");

    [Test]
    public void VggBlock_two_convolutions_and_max_pool() =>
        AssertGolden(VggBlock.Load(Fixtures.Model("vgg_block", "weights.safetensors"), Options), "vgg_block");

    [Test]
    public void Parameter_counts_and_flops_match_model_json()
    {
        Assert.That(CifarResNet8.Flops, Is.EqualTo(25003264));
        Assert.That(MobileNetBlock.Flops, Is.EqualTo(14651392));
        Assert.That(VggBlock.Flops, Is.EqualTo(462422016));
        Assert.That(CifarResNet8.ParameterCount, Is.EqualTo(77706));
        Assert.That(MobileNetBlock.ParameterCount, Is.EqualTo(2432));
        Assert.That(VggBlock.ParameterCount, Is.EqualTo(73856));
    }

    private static void AssertGolden(INetwork net, string model)
    {
        var input = Fixtures.Floats(Fixtures.Model(model, "golden_input.bin"));
        var expected = Fixtures.Floats(Fixtures.Model(model, "golden_output.bin"));
        int n = input.Length / net.InputSize;
        Assert.That(n * net.OutputSize, Is.EqualTo(expected.Length));
        var actual = new float[expected.Length];
        net.PredictBatch(input, actual, n);
        ConformanceCase.AssertClose(expected, actual, 1e-4, 1e-4, model);
    }
}
