using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

namespace CnnGen.Tests.Generator;

/// <summary>
/// Declarations the hostile suites only compile, run end to end: layer names with every character class load their
/// weights by those names, and a record, a class nested in a generic type and a keyword-named class in a keyword
/// namespace predict exactly what the plain class predicts.
/// </summary>
public sealed class HostileEndToEndTests
{
    /// <summary>Layer names (conv, bn, fc) as a user might write them, with the characters that stress strings, comments and identifiers.</summary>
    private static readonly (string Conv, string Bn, string Fc)[] Names =
    {
        ("conv", "bn", "fc"),
        ("卷积.层", "слой \"bn\"", "طبقة\\fc"),
        ("features.0", "features.1 */ <&>", "classifier.😀"),
        ("class", "@int", "{0}"),
        (new string('c', 600), "\u00a0", "e\u0301 #region"),
    };

    private const string Body = "[Network, Input(2, 8, 8), Conv2D(4, 3, Padding = 1, Name = {0}), BatchNorm2D(Name = {1}), ReLU, MaxPool2D(2), Flatten, Dense(3, Name = {2})]";

    private static string Declare((string Conv, string Bn, string Fc) n) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, Body, HostileDeclarationTests.Lit(n.Conv), HostileDeclarationTests.Lit(n.Bn), HostileDeclarationTests.Lit(n.Fc));

    private static TensorSet Weights((string Conv, string Bn, string Fc) n)
    {
        var rng = new Random(3);
        float[] R(int count, float lo, float hi) => Enumerable.Range(0, count).Select(_ => lo + ((hi - lo) * (float)rng.NextDouble())).ToArray();
        return new TensorSet(new[]
        {
            new Tensor(n.Conv + ".weight", new[] { 4, 2, 3, 3 }, R(72, -0.5f, 0.5f)),
            new Tensor(n.Conv + ".bias", new[] { 4 }, R(4, -0.2f, 0.2f)),
            new Tensor(n.Bn + ".weight", new[] { 4 }, R(4, 0.5f, 1.5f)),
            new Tensor(n.Bn + ".bias", new[] { 4 }, R(4, -0.2f, 0.2f)),
            new Tensor(n.Bn + ".running_mean", new[] { 4 }, R(4, -0.2f, 0.2f)),
            new Tensor(n.Bn + ".running_var", new[] { 4 }, R(4, 0.5f, 1.5f)),
            new Tensor(n.Fc + ".weight", new[] { 3, 64 }, R(192, -0.3f, 0.3f)),
            new Tensor(n.Fc + ".bias", new[] { 3 }, R(3, -0.1f, 0.1f)),
        });
    }

    private static readonly float[] Input = Enumerable.Range(0, 128).Select(i => MathF.Sin(i * 0.37f)).ToArray();

    private static float[] Predict(Type type)
    {
        var load = type.GetMethod("Load", new[] { typeof(TensorSet), typeof(LoadOptions) })!;
        var net = (INetwork)load.Invoke(null, new object?[] { Weights(Names[0]), null })!;
        var output = new float[net.OutputSize];
        net.Predict(Input, output);
        return output;
    }

    [Test]
    public void Layer_names_of_every_character_class_load_and_predict()
    {
        string source = "using CnnGen;\nnamespace E2E;\n" + string.Join("\n", Names.Select((n, i) => $"{Declare(n)} public partial class Net{i};"));
        var assembly = GeneratorHarness.CompileAndLoad(source);
        float[]? expected = null;
        for (int i = 0; i < Names.Length; i++)
        {
            var net = GeneratorHarness.Load(assembly, "E2E.Net" + i, Weights(Names[i]));
            var output = new float[net.OutputSize];
            net.Predict(Input, output);
            expected ??= output;
            Assert.That(output, Is.EqualTo(expected), $"names {Names[i]}");
            Assert.That(output.All(float.IsFinite) && output.Any(v => v != 0), Is.True);
        }
    }

    [Test]
    public void Records_generic_outer_types_and_keyword_names_predict_like_a_plain_class()
    {
        string body = Declare(Names[0]);
        var assembly = GeneratorHarness.CompileAndLoad(
            $"using CnnGen;\nnamespace E2E {{ {body} public partial class Plain; {body} public partial record Rec; {body} public sealed partial record class SealedRec; public partial class Outer<T> where T : struct {{ {body} internal partial class Net; }} public ref partial struct RefOuter {{ {body} public partial class Net; }} }}",
            $"using CnnGen;\nnamespace @int.@class {{ {body} public partial class @class; }}");
        var expected = Predict(assembly.GetType("E2E.Plain", true)!);
        var types = new[]
        {
            assembly.GetType("E2E.Rec", true)!,
            assembly.GetType("E2E.SealedRec", true)!,
            assembly.GetType("E2E.Outer`1+Net", true)!.MakeGenericType(typeof(int)),
            assembly.GetType("E2E.RefOuter+Net", true)!,
            assembly.GetType("int.class.class", true)!,
        };
        foreach (var type in types)
        {
            Assert.That(Predict(type), Is.EqualTo(expected), type.FullName);
        }

        // A record's synthesized members see the generated ones: equality is by reference to the same weights.
        var rec = assembly.GetType("E2E.Rec", true)!;
        var load = rec.GetMethod("Load", new[] { typeof(TensorSet), typeof(LoadOptions) })!;
        object a = load.Invoke(null, new object?[] { Weights(Names[0]), null })!, b = load.Invoke(null, new object?[] { Weights(Names[0]), null })!;
        Assert.That(a.Equals(a), Is.True);
        Assert.That(a, Is.Not.EqualTo(b), "two loads hold two weight arrays");
        Assert.That(a.ToString(), Does.StartWith("Rec { VectorWidth = "));
    }
}
