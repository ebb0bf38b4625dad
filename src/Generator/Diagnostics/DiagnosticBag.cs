using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Diagnostics;

/// <summary>Collects the diagnostics of one network as equatable data; shared by the parser and shape inference.</summary>
internal sealed class DiagnosticBag
{
    private readonly List<DiagnosticInfo> _items = new();

    /// <summary>Diagnostics collected so far.</summary>
    public int Count => _items.Count;

    /// <summary>Diagnostics of error severity collected so far.</summary>
    public int ErrorCount => _items.Count(d => DiagnosticDescriptors.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error);

    /// <summary>Adds a diagnostic; its arguments are formatted in the invariant culture.</summary>
    public void Add(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] args) => _items.Add(DiagnosticInfo.Create(descriptor, location, args));

    /// <summary>Adds every diagnostic of another bag, in order.</summary>
    public void AddRange(DiagnosticBag other) => _items.AddRange(other._items);

    public EquatableArray<DiagnosticInfo> ToEquatableArray() => _items.ToEquatableArray();
}
