using System;
using CnnGen.Internal;

namespace CnnGen.Tests.Training;

/// <summary>
/// <see cref="TrainingLayouts.TransposeDense"/> (8 x 8 block transposes where a gradient row's channels are consecutive,
/// the element loop otherwise; the weights in one tile or in unit blocks) against the element-by-element definition, for every input layout, vector inputs and
/// feature maps, real and padded sizes; padded lanes stay as they were (zero); short buffers are refused.
/// </summary>
[TestFixture]
public sealed class TransposeDenseTests
{
    [Test]
    public void Matches_the_element_definition(
        [Values(false, true)] bool forwardHwc, [Values(false, true)] bool gradientHwc, [Values(1, 6)] int pixels, [Values(10, 64)] int units, [Values(0, 8, 16)] int block)
    {
        const int channels = 13;
        int height = pixels == 1 ? 1 : 2, width = pixels / height;
        int paddedUnits = (units + 15) / 16 * 16, gradientChannels = gradientHwc ? 16 : channels;
        int gradientFloats = gradientHwc ? pixels * gradientChannels : channels * pixels;
        gradientFloats += 3; // rows longer than the gradient (padding) stay zero past it
        // unit blocks of `block` floats ([unitBlock][feature][block]; 0: one [feature][paddedUnits] tile), padded units zero
        int b = block == 0 ? paddedUnits : block, features = channels * pixels;
        int Packed(int k, int o) => ((((o / b) * features) + k) * b) + (o % b);
        var packed = new float[features * paddedUnits];
        for (int k = 0; k < features; k++)
        {
            for (int o = 0; o < units; o++)
            {
                packed[Packed(k, o)] = (((k * paddedUnits) + o) * 0.25f) - 100;
            }
        }

        var expected = new float[units * gradientFloats];
        for (int c = 0; c < channels; c++)
        {
            for (int p = 0; p < pixels; p++)
            {
                int k = forwardHwc ? (p * channels) + c : (c * pixels) + p;
                int s = gradientHwc ? (p * gradientChannels) + c : (c * pixels) + p;
                for (int o = 0; o < units; o++)
                {
                    expected[(o * gradientFloats) + s] = packed[Packed(k, o)];
                }
            }
        }

        var transposed = new float[units * gradientFloats];
        TrainingLayouts.TransposeDense(packed, transposed, units, paddedUnits, channels, height, width, forwardHwc, gradientHwc, gradientChannels, gradientFloats, block);
        Assert.That(transposed, Is.EqualTo(expected));
    }

    [Test]
    public void Short_buffers_are_refused()
    {
        var packed = new float[13 * 16];
        Assert.Throws<ArgumentException>(() => TrainingLayouts.TransposeDense(packed, new float[(10 * 13) - 1], 10, 16, 13, 1, 1, false, false, 13, 13));
        Assert.Throws<ArgumentException>(() => TrainingLayouts.TransposeDense(packed.AsSpan(0, (12 * 16) + 9), new float[10 * 13], 10, 16, 13, 1, 1, false, false, 13, 13));
    }
}
