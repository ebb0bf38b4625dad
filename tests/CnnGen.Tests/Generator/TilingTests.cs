using System;
using System.Linq;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Runtime;
using NUnit.Framework;

namespace CnnGen.Tests.Generator;

/// <summary>The convolution register tiles the planner chooses from each target's <see cref="MachineModel"/>.</summary>
public class TilingTests
{
    // 8 -> 32 filters on an 8 x 8 map: at Vector256 the 6-pixel tiles leave 2 pixels, whose tile takes two weight
    // groups per pass (2 x 4 accumulators); the second convolution's store adds a residual (a pool follows, so neither
    // convolution writes the NCHW output, whose tiles are multiples of 8 pixels). Winograd is off: these are the direct tiles.
    private const string Source = """
        using CnnGen;
        namespace Tiles;
        [Network(Winograd = false), Input(8, 8, 8)]
        [Conv2D(32, 3, Padding = 1, Activation = Activation.Relu, Name = "a")]
        [Conv2D(32, 3, Padding = 1, Name = "b")]
        [Add("b", "a", Activation = Activation.Relu, Name = "sum")]
        [MaxPool2D(2, Name = "pool")]
        public partial class Net;
        """;

    [Test]
    public void The_AVX2_plan_hides_the_FMA_latency_with_twelve_accumulators_and_a_wide_last_tile()
    {
        var plan = GeneratorHarness.Models(Source)[0].Plans.Single(p => p.Machine.Width == 8);
        var convs = plan.Steps.Select(s => s.Kernel).OfType<ConvKernel>().ToArray();
        Assert.That(convs, Has.Length.EqualTo(2));
        foreach (var k in convs)
        {
            Assert.That((k.TilePixels, k.TileVectors), Is.EqualTo((6, 2)), k.Method);
            Assert.That((k.Tiles.Full, k.Tiles.Last, k.LastTileVectors), Is.EqualTo((1, 2, 4)), k.Method);
            int registers = (k.TilePixels * k.TileVectors) + k.TileVectors + 1;
            Assert.That(registers, Is.LessThanOrEqualTo(MachineModel.Avx2.VectorRegisters));
            Assert.That(k.Tiles.Last * k.LastTileVectors * MachineModel.Avx2.FmaLatencyCycles, Is.GreaterThanOrEqualTo(8 * MachineModel.Avx2.FmaPerCycle),
                "the last tile keeps at least 8 chains in flight");
        }

        string kernels = GeneratorHarness.Run(Source).Files.Single(f => f.Key.EndsWith("Kernels256.g.cs", StringComparison.Ordinal)).Value;
        Assert.That(kernels, Does.Contain("a last tile of 2 pixels x 4 vectors (2 weight tiles per pass)"));
    }

    [Test]
    public void A_last_tile_over_several_weight_groups_computes_what_the_reference_computes_at_every_width()
    {
        var reference = ReferenceNetwork<double>.Create(new Shape(8, 8, 8), b => b
            .Conv2D("a", 32, 3, padding: 1, activation: Activation.Relu)
            .Conv2D("b", 32, 3, padding: 1)
            .Add("b", "a", "sum", Activation.Relu)
            .MaxPool2D(2, "pool"));
        var random = new Random(5);
        var weights = ReferenceChecks.RandomWeights(reference, random);
        ReferenceChecks.AssertEveryWidth(GeneratorHarness.CompileAndLoad(Source), "Tiles.Net", reference, weights, random, batch: 3, scale: 1);
    }
}
