using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace CnnGen.Tests.Generator;

/// <summary>
/// The property tests' random networks (<see cref="RandomNetwork"/>) pushed past the valid range: numbers replaced by
/// hostile values, activations by undefined ones, layers dropped, repeated, swapped or renamed. Each declaration compiles
/// cleanly or gets a CnnGen error (<see cref="HostileHarness"/>).
/// </summary>
public sealed class HostileRandomTests
{
    private const int Count = 160;

    /// <summary>A number in an attribute's argument list (not inside a name: <c>"n12"</c> is left alone).</summary>
    private static readonly Regex Number = new(@"(?<=[(, =])-?\d+(\.\d+)?(E-?\d+)?f?(?=[,)])", RegexOptions.CultureInvariant);

    private static readonly Regex ActivationValue = new(@"Activation\.[A-Za-z0-9]+", RegexOptions.CultureInvariant);

    private static readonly string[] IntValues = { "0", "-1", "1", "2", "7", "100", "4097", "65536", "1000000", "int.MaxValue", "int.MinValue" };

    private static readonly string[] FloatValues = { "float.NaN", "float.PositiveInfinity", "float.NegativeInfinity", "-0f", "float.MaxValue", "-1f", "0f" };

    /// <summary>One random network, mutated <paramref name="mutations"/> times.</summary>
    internal static string Mutate(string declaration, Random rng, int mutations)
    {
        var lines = declaration.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        for (int m = 0; m < mutations; m++)
        {
            // lines[0] is [Network, Input(...)], the last line the class; layers are in between.
            int layers = lines.Count - 2;
            int pick = rng.Next(10);
            if (pick < 6 || layers < 2)
            {
                int line = rng.Next(lines.Count - 1);
                var numbers = Number.Matches(lines[line]);
                if (numbers.Count > 0)
                {
                    var n = numbers[rng.Next(numbers.Count)];
                    bool isFloat = n.Value.EndsWith('f');
                    string value = isFloat ? FloatValues[rng.Next(FloatValues.Length)] : IntValues[rng.Next(IntValues.Length)];
                    lines[line] = lines[line][..n.Index] + value + lines[line][(n.Index + n.Length)..];
                }
            }
            else if (pick == 6)
            {
                int line = 1 + rng.Next(layers);
                lines[line] = ActivationValue.Replace(lines[line], rng.Next(2) == 0 ? "(Activation)42" : "(Activation)(-3)", 1);
            }
            else if (pick == 7)
            {
                lines.RemoveAt(1 + rng.Next(layers));
            }
            else if (pick == 8)
            {
                int line = 1 + rng.Next(layers);
                lines.Insert(line, lines[line]);
            }
            else
            {
                int a = 1 + rng.Next(layers), b = 1 + rng.Next(layers);
                (lines[a], lines[b]) = (lines[b], lines[a]);
            }
        }

        return string.Join("\n", lines);
    }

    public static IEnumerable<HostileCase> Cases()
    {
        var rng = new Random(9);
        for (int i = 0; i < Count; i++)
        {
            bool graphs = i % 2 == 1;
            var net = RandomNetwork.Create(20000 + i, graphs);
            string declaration = Mutate(net.Declaration, rng, 1 + rng.Next(3));
            yield return new HostileCase
            {
                Name = $"random {i.ToString(CultureInfo.InvariantCulture)}:\n{declaration}",
                Sources = new[] { declaration },
                Use = net.ClassName + ".InputSize",
            };
        }
    }

    [Test]
    public void Mutated_random_networks_compile_or_get_a_CnnGen_error()
    {
        var cases = Cases().ToList();
        var failures = HostileHarness.Check(cases, out var outcome);
        HostileHarness.Log(outcome);
        Assert.That(outcome.Diagnosed, Is.GreaterThan(Count / 4), "the mutations reach invalid declarations");
        Assert.That(outcome.Compiled, Is.GreaterThan(Count / 10), "and valid ones");
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }
}
