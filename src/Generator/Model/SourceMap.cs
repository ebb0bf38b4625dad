using System;
using System.Collections.Generic;

namespace CnnGen.Generator.Model;

/// <summary>
/// Where a layer was declared: its attribute and each of its arguments, by argument name (case-insensitive). Built
/// by the parser; shape inference uses it to place diagnostics without seeing Roslyn syntax or symbols.
/// </summary>
internal sealed class LayerSourceMap
{
    private readonly Dictionary<string, LocationInfo?> _arguments;

    /// <param name="attribute">The whole attribute.</param>
    /// <param name="arguments">Each argument's location by name: a named argument by its name, a constructor argument by its parameter's name; the first of equal names wins.</param>
    public LayerSourceMap(LocationInfo? attribute, IEnumerable<KeyValuePair<string, LocationInfo?>> arguments)
    {
        Attribute = attribute;
        _arguments = new Dictionary<string, LocationInfo?>(StringComparer.OrdinalIgnoreCase);
        foreach (var kv in arguments)
        {
            if (!_arguments.ContainsKey(kv.Key))
            {
                _arguments.Add(kv.Key, kv.Value);
            }
        }
    }

    /// <summary>The whole attribute.</summary>
    public LocationInfo? Attribute { get; }

    /// <summary>The location of a named argument or constructor parameter, else of the whole attribute.</summary>
    public LocationInfo? Argument(string name) => _arguments.TryGetValue(name, out var location) ? location : Attribute;

    /// <summary>The location of the first of <paramref name="names"/> the attribute has (the most specific first), else of the whole attribute.</summary>
    public LocationInfo? Argument(params string[] names)
    {
        foreach (var name in names)
        {
            if (_arguments.TryGetValue(name, out var location))
            {
                return location;
            }
        }

        return Attribute;
    }
}

/// <summary>Where the parts of a network were declared (for diagnostics only; never part of the cached model).</summary>
internal sealed class NetworkSourceMap
{
    /// <summary>The class name's identifier.</summary>
    public LocationInfo? Class { get; set; }

    /// <summary>The <c>[Network]</c> attribute.</summary>
    public LocationInfo? NetworkAttribute { get; set; }

    /// <summary>The first <c>[Input]</c> attribute, or null when there is none.</summary>
    public LocationInfo? Input { get; set; }

    /// <summary>One entry per parsed layer, in the order of <see cref="NetworkSpec.Layers"/>.</summary>
    public List<LayerSourceMap> Layers { get; } = new();
}
