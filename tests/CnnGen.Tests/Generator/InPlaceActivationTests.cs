using System;
using System.Linq;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Generator;

/// <summary>
/// Convolution and depthwise tiles store their accumulators raw and apply Sigmoid, Tanh and SiLU afterwards in place
/// through a call (<c>KernelWriter.ActivateInPlace</c>), so a tile of many accumulators holds no inlined copy of the exp
/// (one per accumulator exhausted the JIT's inlining budget; a loop in the tile kept its constants in registers through
/// the channel loop). Every path that does it (a 1x1
/// and a 3x3 convolution, a depthwise convolution, a fused residual, the NCHW network output through its stage) against
/// the double reference at every width, the generated text, and the NaN of an overflow reaching the output check.
/// </summary>
public sealed class InPlaceActivationTests
{
    /// <summary>EfficientNet's block in small: expand (1x1, SiLU), depthwise (SiLU), project + residual (Tanh), a 3x3 to the NCHW output (Sigmoid).</summary>
    private const string Source = """
        using CnnGen;
        namespace InPlace;
        [Network, Input(16, 9, 11)]
        [Conv2D(48, 1, Activation = Activation.SiLU, Name = "expand")]
        [Conv2D(48, 3, Groups = 48, Padding = 1, Activation = Activation.SiLU, Name = "dw")]
        [Conv2D(16, 1, Name = "project")]
        [Add("project", "input", Activation = Activation.Tanh, Name = "add")]
        [Conv2D(40, 3, Padding = 1, Activation = Activation.Sigmoid, Name = "out")]
        public partial class Block;
        """;

    private static ReferenceNetwork<double> Reference() => ReferenceNetwork<double>.Create(new Shape(16, 9, 11), b => b
        .Conv2D("expand", 48, 1, activation: Activation.SiLU)
        .Conv2D("dw", 48, 3, padding: 1, groups: 48, activation: Activation.SiLU)
        .Conv2D("project", 16, 1)
        .Add("project", "input", "add", Activation.Tanh)
        .Conv2D("out", 40, 3, padding: 1, activation: Activation.Sigmoid));

    [Test]
    public void Tiles_activate_in_place_and_match_the_reference_on_every_width()
    {
        var assembly = GeneratorHarness.CompileAndLoad(Source);
        var reference = Reference();
        var random = new Random(17);
        var weights = ReferenceChecks.RandomWeights(reference, random);
        // Inputs up to +-6: the activations see arguments well past where exp's polynomial is exact to the last bits.
        ReferenceChecks.AssertEveryWidth(assembly, "InPlace.Block", reference, weights, random, batch: 2, scale: 6, predictOne: true);
    }

    [Test]
    public void Every_width_calls_the_activations_after_the_tile_not_in_its_stores()
    {
        foreach (var (name, text) in GeneratorHarness.Run(Source).Files.Where(f => f.Key.Contains("Kernels", StringComparison.Ordinal)))
        {
            Assert.Multiple(() =>
            {
                // In-place calls in every tile method of several pixels (a row's full and last tiles): expand and dw
                // (SiLU, at least one each), project (Tanh, with the residual), out (Sigmoid, in its stage); one
                // helper of each, not inlined.
                Assert.That(Count(text, "SiLUInPlace(ref "), Is.GreaterThanOrEqualTo(2), name + ": expand and dw");
                Assert.That(Count(text, "TanhInPlace(ref yt, "), Is.Positive, name + ": project");
                Assert.That(Count(text, "SigmoidInPlace(ref stage, "), Is.Positive, name + ": out's stage");
                foreach (var kind in new[] { "SiLU", "Tanh", "Sigmoid" })
                {
                    Assert.That(Count(text, $"private static void {kind}InPlace(ref float y, int pixels, int pixelStep, int vectors)"), Is.EqualTo(1), $"{name}: {kind}'s helper");
                }

                Assert.That(text, Does.Not.Match(@"Store\((SiLU|Tanh|Sigmoid)\(a\d"), name + ": no activation applied to an accumulator");
            });
        }
    }

    [Test]
    public void An_overflow_through_the_in_place_activations_reaches_the_output_check()
    {
        var assembly = GeneratorHarness.CompileAndLoad(Source);
        // Weights of -1e15 (the largest a file may hold) on inputs of 1e30: expand overflows to +-infinity, SiLU(-infinity) is NaN; the NaN must survive every clamp
        // (the exp's native min and max keep it as their second operand) and fail the prediction instead of a silent 0.
        var weights = new TensorSet(Reference().Parameters.Select(p => new Tensor(p.Name, p.Shape, Enumerable.Repeat(p.Name.StartsWith("expand", StringComparison.Ordinal) ? -1e15f : 0.01f, p.Value.Length).ToArray())));
        foreach (var width in GeneratorHarness.Widths)
        {
            var net = GeneratorHarness.Load(assembly, "InPlace.Block", weights, new LoadOptions { VectorWidth = width });
            var input = Enumerable.Repeat(1e30f, net.InputSize).ToArray();
            Assert.Throws<ArithmeticException>(() => net.Predict(input, new float[net.OutputSize]), width.ToString());
        }
    }

    private static int Count(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }
}
