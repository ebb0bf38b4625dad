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

    /// <summary>
    /// Adds a diagnostic; its arguments are formatted in the invariant culture. The same diagnostic at the same place
    /// is kept once (<c>Stride = -1</c> is both strides, one argument).
    /// </summary>
    public void Add(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] args)
    {
        var info = DiagnosticInfo.Create(descriptor, location, args);
        if (!_items.Contains(info))
        {
            _items.Add(info);
        }
    }

    /// <summary>Adds every diagnostic of another bag, in order.</summary>
    public void AddRange(DiagnosticBag other) => _items.AddRange(other._items);

    public EquatableArray<DiagnosticInfo> ToEquatableArray() => _items.ToEquatableArray();
}
