using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using CnnGen.Generator.Model;
using CnnGen.Generator.Shapes;

namespace CnnGen.Tests.Generator;

/// <summary>The spec hash covers every field of the model without a hand-written list (it once missed PadSame and DisplayKind).</summary>
public sealed class SpecHashTests
{
    private static LayerSpec Conv() => new()
    {
        Kind = LayerKind.Conv2D,
        DisplayKind = "Conv2D",
        Name = "conv1",
        Inputs = new[] { "input" }.ToEquatableArray(),
        Units = 4,
        KernelH = 3,
        KernelW = 3,
        Bias = true,
    };

    private static NetworkSpec Spec(LayerSpec layer) => new()
    {
        Namespace = "N",
        ContainingTypes = EquatableArray<ContainingType>.Empty,
        ClassName = "Net",
        Accessibility = "public",
        InputC = 1,
        InputH = 8,
        InputW = 8,
        Layers = new[] { layer }.ToEquatableArray(),
        OutputName = null,
    };

    private static ShapedNetwork Shaped(NetworkSpec spec, LayerSpec shapedLayer) => new()
    {
        Spec = spec,
        Input = TensorShape.Spatial(1, 8, 8),
        Layers = new[]
        {
            new ShapedLayer { Spec = shapedLayer, Inputs = new[] { -1 }.ToEquatableArray(), In = TensorShape.Spatial(1, 8, 8), Out = TensorShape.Spatial(4, 6, 6), Params = 40, Macs = 1296 },
        }.ToEquatableArray(),
        OutputLayer = 0,
    };

    private static string Hash(ShapedNetwork net) => SpecHash.Compute(net, "test");

    /// <summary>A copy of a record with one property set to a different value of its type.</summary>
    private static T With<T>(T record, PropertyInfo p)
        where T : class
    {
        var clone = (T)typeof(T).GetMethod("<Clone>$")!.Invoke(record, null)!;
        p.SetValue(clone, Different(p.PropertyType, p.GetValue(record)));
        return clone;
    }

    private static object? Different(Type type, object? value)
    {
        if (type == typeof(int))
        {
            return (int)value! + 1;
        }

        if (type == typeof(float))
        {
            return (float)value! + 0.5f;
        }

        if (type == typeof(bool))
        {
            return !(bool)value!;
        }

        if (type == typeof(string))
        {
            return (string?)value + "x";
        }

        if (type.IsEnum)
        {
            var values = Enum.GetValues(type).Cast<object>().ToList();
            return values[(values.IndexOf(value!) + 1) % values.Count];
        }

        if (type == typeof(EquatableArray<string>))
        {
            return ((EquatableArray<string>)value!).Append("x").ToEquatableArray();
        }

        if (type == typeof(EquatableArray<ContainingType>))
        {
            return ((EquatableArray<ContainingType>)value!).Append(new ContainingType("class", "Outer")).ToEquatableArray();
        }

        if (type == typeof(EquatableArray<LayerSpec>))
        {
            return ((EquatableArray<LayerSpec>)value!).Append(Conv() with { Name = "conv2" }).ToEquatableArray();
        }

        throw new AssertionException($"SpecHashTests does not know how to change a {type}; teach Different() so the new field is covered");
    }

    public static IEnumerable<TestCaseData> LayerFields() =>
        SpecHash.Fields(typeof(LayerSpec)).Select(p => new TestCaseData(p.Name).SetName("LayerSpec." + p.Name));

    public static IEnumerable<TestCaseData> NetworkFields() =>
        SpecHash.Fields(typeof(NetworkSpec)).Select(p => new TestCaseData(p.Name).SetName("NetworkSpec." + p.Name));

    [TestCaseSource(nameof(LayerFields))]
    public void Changing_any_layer_field_changes_the_hash(string field)
    {
        var layer = Conv();
        var changed = With(layer, typeof(LayerSpec).GetProperty(field)!);
        Assert.That(changed, Is.Not.EqualTo(layer));
        Assert.That(Hash(Shaped(Spec(changed), layer)), Is.Not.EqualTo(Hash(Shaped(Spec(layer), layer))), "declared layer");
        Assert.That(Hash(Shaped(Spec(layer), changed)), Is.Not.EqualTo(Hash(Shaped(Spec(layer), layer))), "shaped layer");
    }

    [TestCaseSource(nameof(NetworkFields))]
    public void Changing_any_network_field_changes_the_hash(string field)
    {
        var spec = Spec(Conv());
        var changed = With(spec, typeof(NetworkSpec).GetProperty(field)!);
        Assert.That(changed, Is.Not.EqualTo(spec));
        Assert.That(Hash(Shaped(changed, Conv())), Is.Not.EqualTo(Hash(Shaped(spec, Conv()))));
    }

    [Test]
    public void Every_field_is_covered_including_the_two_a_hand_written_list_missed()
    {
        var names = SpecHash.Fields(typeof(LayerSpec)).Select(p => p.Name).ToList();
        Assert.That(names, Does.Contain(nameof(LayerSpec.PadSame)).And.Contain(nameof(LayerSpec.DisplayKind)));
        Assert.That(names, Has.Count.EqualTo(typeof(LayerSpec).GetProperties(BindingFlags.Instance | BindingFlags.Public).Length), "every public property of LayerSpec is data");
        string text = SpecHash.CanonicalText(Shaped(Spec(Conv()), Conv()));
        Assert.That(text, Does.Contain("PadSame=false").And.Contain("DisplayKind=\"Conv2D\""));
    }

    [Test]
    public void The_hash_is_stable_and_equal_for_equal_models()
    {
        string first = Hash(Shaped(Spec(Conv()), Conv()));
        string second = Hash(Shaped(Spec(Conv()), Conv())); // separately built, equal records
        Assert.That(second, Is.EqualTo(first));
        Assert.That(first, Does.Match("^[0-9a-f]{8}$"));
    }
}
