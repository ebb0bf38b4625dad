using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;

namespace CnnGen.Tests.Generator;

/// <summary>
/// Every argument of every CnnGen attribute (found by reflection, so an attribute added later is swept too) at 0, -1,
/// int.MinValue, int.MaxValue and a few sizes around the valid range; floats at NaN, the infinities, -0 and the extremes;
/// enums at every defined value and at values no member has; merge inputs empty, null, unknown and repeated. Each
/// declaration compiles cleanly or gets a CnnGen error (<see cref="HostileHarness"/>).
/// </summary>
public sealed class HostileArgumentTests
{
    /// <summary>Integers: both ends of int, 0, -1, the smallest valid sizes, and one large enough to be valid only sometimes (wider sizes make more code, not other code).</summary>
    private static readonly string[] Ints = { "0", "-1", "1", "2", "100", "int.MaxValue", "int.MinValue" };

    /// <summary>
    /// Integers for the blocks, whose sizes multiply the generated code (Repeat = 100 is 100 blocks, Filters = 100 a
    /// 400-channel bottleneck): 5 stands in for 100, since a size that compiles at 5 compiles the same code at 100, only
    /// more of it (the overflow cases stay: int.MaxValue and int.MinValue). 100 cost the sweep three minutes of compiling.
    /// </summary>
    private static readonly string[] BlockInts = { "0", "-1", "1", "2", "5", "int.MaxValue", "int.MinValue" };

    private static readonly HashSet<string> Blocks = new(StringComparer.Ordinal) { "BasicBlock", "Bottleneck", "InvertedResidual", "MBConv" };

    private static readonly string[] Floats =
        { "0f", "-0f", "-1f", "0.5f", "1f", "2f", "float.NaN", "float.PositiveInfinity", "float.NegativeInfinity", "float.MaxValue", "float.Epsilon" };

    private static readonly string[] InputLists =
        { string.Empty, "null", "\"\"", "\"a\"", "\"a\", \"a\"", "\"a\", \"nope\"", "\"input\", \"input\"", "\"a\", null", "\"a\", \"input\", \"a\", \"input\", \"a\"" };

    /// <summary>Where an attribute is swept: the declaration around it (<c>{0}</c>, possibly several times) and valid constructor arguments.</summary>
    private static readonly Dictionary<string, (string Template, string[] Ctor)> Bases = new(StringComparer.Ordinal)
    {
        ["Input"] = ("[Network, {0}, Conv2D(2, 3), Flatten, Dense(2)]", new[] { "3", "8", "8" }),
        ["Conv2D"] = ("[Network, Input(4, 12, 12), {0}, Flatten, Dense(2)]", new[] { "4", "3", "3" }),
        ["Dense"] = ("[Network, Input(2, 4, 4), Flatten, {0}]", new[] { "3" }),
        ["MaxPool2D"] = ("[Network, Input(2, 12, 12), {0}, Flatten, Dense(2)]", new[] { "3", "3" }),
        ["AvgPool2D"] = ("[Network, Input(2, 12, 12), {0}, Flatten, Dense(2)]", new[] { "3", "3" }),
        ["BatchNorm2D"] = ("[Network, Input(2, 6, 6), {0}, Conv2D(2, 1), {0}]", Array.Empty<string>()),
        ["LeakyReLU"] = ("[Network, Input(2, 6, 6), {0}, Conv2D(2, 1), {0}, Flatten, Dense(2), {0}]", new[] { "0.1f" }),
        ["Dropout"] = ("[Network, Input(2, 4, 4), {0}, Flatten, {0}, Dense(2)]", new[] { "0.5f" }),
        ["Add"] = ("[Network, Input(2, 6, 6), Conv2D(2, 3, Padding = 1, Name = \"a\"), {0}]", new[] { "\"a\", \"input\"" }),
        ["Concat"] = ("[Network, Input(2, 6, 6), Conv2D(2, 3, Padding = 1, Name = \"a\"), {0}]", new[] { "\"a\", \"input\"" }),
    };

    /// <summary>An attribute this sweep has no base for (one added later): after a 4x12x12 convolution named "a".</summary>
    private const string GenericTemplate = "[Network, Input(4, 12, 12), Conv2D(4, 3, Padding = 1, Name = \"a\"), {0}, Flatten, Dense(2)]";

    private static IEnumerable<Type> AttributeTypes() => typeof(NetworkAttribute).Assembly.GetTypes()
        .Where(t => t.IsPublic && !t.IsAbstract && t.IsSubclassOf(typeof(Attribute)) && t.Namespace == "CnnGen")
        .OrderBy(t => t.Name, StringComparer.Ordinal);

    private static string Display(Type t) => t.Name.EndsWith("Attribute", StringComparison.Ordinal) ? t.Name[..^"Attribute".Length] : t.Name;

    private static string[] Values(Type t, string attribute)
    {
        if (t == typeof(int))
        {
            return Blocks.Contains(attribute) ? BlockInts : Ints;
        }

        if (t == typeof(float))
        {
            return Floats;
        }

        if (t == typeof(bool))
        {
            return new[] { "true", "false" };
        }

        if (t == typeof(string[]))
        {
            return InputLists;
        }

        if (t.IsEnum)
        {
            var defined = Enum.GetNames(t).Select(n => t.Name + "." + n);
            var undefined = new[] { "-1", "99", "int.MaxValue", "int.MinValue" }.Select(v => $"({t.Name})({v})");
            return defined.Concat(undefined).ToArray();
        }

        return Array.Empty<string>(); // strings (Name, From, Output): HostileDeclarationTests.Names
    }

    private static string Default(Type t) =>
        t == typeof(int) ? "2" : t == typeof(float) ? "0.5f" : t == typeof(bool) ? "true" : t == typeof(string[]) ? "\"a\", \"a\"" : t == typeof(string) ? "\"a\"" : t.IsEnum ? $"default({t.Name})" : "default";

    public static IEnumerable<HostileCase> Sweep()
    {
        foreach (var type in AttributeTypes())
        {
            string name = Display(type);
            var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
            var parameters = ctor.GetParameters();
            var (template, defaults) = Bases.TryGetValue(name, out var b) ? b : (GenericTemplate, parameters.Select(p => Default(p.ParameterType)).ToArray());
            if (name == "Network")
            {
                continue; // its only argument is the Output name
            }

            string Call(string[] ctorArgs, string? named) =>
                name + "(" + string.Join(", ", ctorArgs.Where(a => a.Length > 0).Concat(named is null ? Array.Empty<string>() : new[] { named })) + ")";

            HostileCase Case(string what, string call) => new()
            {
                Name = $"{name}: {what}",
                Sources = new[] { string.Format(CultureInfo.InvariantCulture, template, call) + " public partial class Net;" },
                Use = "Net.InputSize",
                Expect = what == "base" && Bases.ContainsKey(name) ? HostileCase.Compiles : null,
            };

            yield return Case("base", Call(defaults, null));
            for (int i = 0; i < parameters.Length; i++)
            {
                foreach (var v in Values(parameters[i].ParameterType, name))
                {
                    var args = (string[])defaults.Clone();
                    args[i] = v;
                    yield return Case($"{parameters[i].Name} = {v}", Call(args, null));
                }
            }

            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                foreach (var v in Values(p.PropertyType, name))
                {
                    yield return Case($"{p.Name} = {v}", Call(defaults, $"{p.Name} = {v}"));
                }
            }
        }
    }

    [Test]
    public void Every_argument_of_every_attribute_at_hostile_values()
    {
        var cases = Sweep().ToList();
        Assert.That(cases.Select(c => c.Name), Is.Unique);
        var failures = HostileHarness.Check(cases, out var outcome);
        HostileHarness.Log(outcome);
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    [Test]
    public void The_sweep_reaches_every_settable_argument()
    {
        var names = Sweep().Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var type in AttributeTypes().Where(t => t != typeof(NetworkAttribute)))
        {
            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.PropertyType != typeof(string)))
            {
                Assert.That(names.Any(n => n.StartsWith($"{Display(type)}: {p.Name} = ", StringComparison.Ordinal)), Is.True, $"{type.Name}.{p.Name}");
            }
        }
    }
}
