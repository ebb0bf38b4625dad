using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Diagnostics;

/// <summary>
/// Every diagnostic CnnGen reports. IDs are stable: never renumber, only add. The catalog with examples is
/// docs/DIAGNOSTICS.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "CnnGen";
    private const string HelpBase = "https://github.com/cnngen/cnngen/blob/main/docs/DIAGNOSTICS.md#";

    public static readonly DiagnosticDescriptor NotPartial = Error(
        "CNN0001", "Network class must be partial",
        "Network class '{0}' must be declared 'partial' so CnnGen can add its kernels; add the 'partial' modifier");

    public static readonly DiagnosticDescriptor MissingInput = Error(
        "CNN0002", "Network has no input shape",
        "Network '{0}' has no [Input(channels, height, width)] attribute; add one, e.g. [Input(1, 28, 28)]");

    public static readonly DiagnosticDescriptor DuplicateInput = Error(
        "CNN0003", "Network has more than one input shape",
        "Network '{0}' declares [Input] more than once; keep exactly one");

    public static readonly DiagnosticDescriptor NonPositive = Error(
        "CNN0004", "Size must be positive",
        "{0} '{1}': {2} must be at least {3}, but is {4}");

    public static readonly DiagnosticDescriptor WindowTooLarge = Error(
        "CNN0005", "Window does not fit its input",
        "{0} '{1}': the {2} window does not fit the {3} input; {4}");

    public static readonly DiagnosticDescriptor NeedsFlatten = Error(
        "CNN0006", "Dense layer on a spatial input",
        "Dense '{0}' reads the {1} output of '{2}', which is ambiguous; add [Flatten] before it");

    public static readonly DiagnosticDescriptor SoftmaxNotLast = Error(
        "CNN0007", "Softmax must be the network output",
        "{0} '{1}' applies Softmax but is not the network's output; Softmax is only supported on the last layer, remove it here");

    public static readonly DiagnosticDescriptor NoLayers = Error(
        "CNN0008", "Network has no layers",
        "Network '{0}' declares no layers; add layer attributes such as [Conv2D(6, 5)] or [Dense(10)]");

    public static readonly DiagnosticDescriptor UnknownReference = Error(
        "CNN0009", "Unknown layer reference",
        "{0} '{1}' reads '{2}', which is not declared before it; inputs must name an earlier layer or 'input' (known: {3})");

    public static readonly DiagnosticDescriptor DuplicateName = Error(
        "CNN0010", "Duplicate layer name",
        "Layer name '{0}' is used twice; give every layer a unique Name");

    public static readonly DiagnosticDescriptor InvalidPadding = Error(
        "CNN0011", "Invalid padding",
        "{0} '{1}': {2}");

    public static readonly DiagnosticDescriptor NeedsSpatialInput = Error(
        "CNN0012", "Layer needs a C x H x W input",
        "{0} '{1}' needs a C x H x W input, but '{2}' is a flat vector of {3}; move it before [Flatten]/[Dense]");

    public static readonly DiagnosticDescriptor GroupsMismatch = Error(
        "CNN0013", "Channels not divisible by groups",
        "Conv2D '{0}': {1}");

    public static readonly DiagnosticDescriptor ShapeMismatch = Error(
        "CNN0014", "Merge inputs do not match",
        "{0} '{1}': {2}");

    public static readonly DiagnosticDescriptor UnusedLayer = Warning(
        "CNN0015", "Layer output is never used",
        "Layer '{0}' is not used by any later layer and is not the network output; remove it or read it with From");

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = Error(
        "CNN0016", "Containing type must be partial",
        "Network class '{0}' is nested in '{1}', which must also be declared 'partial'");

    public static readonly DiagnosticDescriptor GenericNotSupported = Error(
        "CNN0017", "Generic network class",
        "Network class '{0}' must not be generic; remove its type parameters");

    public static readonly DiagnosticDescriptor TooLarge = Error(
        "CNN0018", "Network too large",
        "Network '{0}': {1}");

    public static readonly DiagnosticDescriptor InvalidArgument = Error(
        "CNN0019", "Invalid layer argument",
        "{0} '{1}': {2}");

    public static readonly DiagnosticDescriptor UnknownOutput = Error(
        "CNN0020", "Unknown output layer",
        "Network '{0}': Output = \"{1}\" names no declared layer");

    public static readonly DiagnosticDescriptor MissingNetwork = Warning(
        "CNN0021", "Input without [Network]",
        "Class '{0}' declares [Input] but not [Network], so CnnGen generates nothing for it; add [Network]");

    // CNN0030-CNN0039: declarations the generated code cannot serve (issue 9). Numbered apart from the layer
    // diagnostics so that work adding layers can keep numbering from CNN0022.
    public static readonly DiagnosticDescriptor InvalidName = Error(
        "CNN0030", "Invalid layer name",
        "{0}: the layer name {1} {2}");

    public static readonly DiagnosticDescriptor UnsupportedClass = Error(
        "CNN0031", "Network class cannot hold the generated members",
        "Network class '{0}' {1}");

    public static readonly DiagnosticDescriptor ReservedName = Error(
        "CNN0032", "Name reserved by the generated code",
        "{0} '{1}' {2}; rename it");

    public static readonly DiagnosticDescriptor SplitLayers = Error(
        "CNN0033", "Layers declared on several parts of a partial class",
        "Network '{0}' declares layers on more than one part of its partial class ({1} and {2}); their order would depend on the order of files, so declare every layer attribute on one part");

    public static readonly DiagnosticDescriptor NotTrainable = Error(
        "CNN0034", "Layer without a generated backward pass",
        "Network '{0}' is Trainable, but {1} has no generated backward pass yet; train the network elsewhere and load its weights, or remove Trainable = true");

    public static readonly DiagnosticDescriptor InternalError = Error(
        "CNN0099", "CnnGen internal error",
        "CnnGen could not generate network '{0}' ({1}); please report this with the declaration: {2}");

    private static readonly Dictionary<string, DiagnosticDescriptor> All = typeof(DiagnosticDescriptors)
        .GetFields()
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .ToDictionary(d => d.Id);

    public static DiagnosticDescriptor ById(string id) => All[id];

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());
}
