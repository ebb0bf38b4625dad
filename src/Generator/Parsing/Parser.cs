using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator.Parsing;

/// <summary>Where a layer was declared: its attribute and each of its arguments (for diagnostics only).</summary>
internal sealed class LayerSource
{
    private readonly AttributeSyntax? _syntax;
    private readonly IMethodSymbol? _constructor;

    public LayerSource(AttributeSyntax? syntax, IMethodSymbol? constructor)
    {
        _syntax = syntax;
        _constructor = constructor;
    }

    public LocationInfo? Attribute => LocationInfo.From(_syntax);

    /// <summary>The location of a named argument or constructor parameter, else of the whole attribute.</summary>
    public LocationInfo? Argument(string name)
    {
        var args = _syntax?.ArgumentList?.Arguments;
        if (args is null)
        {
            return Attribute;
        }

        foreach (var arg in args)
        {
            if (arg.NameEquals is { } ne && string.Equals(ne.Name.Identifier.ValueText, name, StringComparison.OrdinalIgnoreCase))
            {
                return LocationInfo.From(arg);
            }
        }

        if (_constructor is not null)
        {
            for (int i = 0; i < _constructor.Parameters.Length && i < args.Value.Count; i++)
            {
                var arg = args.Value[i];
                if (arg.NameEquals is null && string.Equals(_constructor.Parameters[i].Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    return LocationInfo.From(arg);
                }
            }
        }

        return Attribute;
    }
}

/// <summary>What the parser found: the spec, where each layer came from, and any diagnostics.</summary>
internal sealed class ParseResult
{
    public NetworkSpec? Spec { get; set; }
    public List<LayerSource> Sources { get; } = new();
    public LocationInfo? ClassLocation { get; set; }
    public LocationInfo? NetworkAttributeLocation { get; set; }
    public LocationInfo? InputLocation { get; set; }
    public List<DiagnosticInfo> Diagnostics { get; } = new();
}

/// <summary>
/// Turns the attributes on a network class into a <see cref="NetworkSpec"/>. This is the only part of the
/// generator that sees Roslyn symbols and syntax.
/// </summary>
internal static class Parser
{
    public const string Namespace = "CnnGen";
    public const string NetworkAttributeName = "CnnGen.NetworkAttribute";

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var result = new ParseResult();
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var classSyntax = (TypeDeclarationSyntax)context.TargetNode;
        result.ClassLocation = LocationInfo.From(classSyntax.Identifier.GetLocation());
        result.NetworkAttributeLocation = LocationInfo.From(context.Attributes[0].ApplicationSyntaxReference?.GetSyntax(cancellationToken));
        string className = symbol.Name;

        if (!classSyntax.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            result.Diagnostics.Add(Diag(DiagnosticDescriptors.NotPartial, result.ClassLocation, className));
        }

        if (symbol.TypeParameters.Length > 0)
        {
            result.Diagnostics.Add(Diag(DiagnosticDescriptors.GenericNotSupported, result.ClassLocation, className));
        }

        var containing = new List<ContainingType>();
        for (var outer = symbol.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            var decl = outer.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as TypeDeclarationSyntax;
            if (decl is null || !decl.Modifiers.Any(SyntaxKind.PartialKeyword) || outer.TypeParameters.Length > 0)
            {
                result.Diagnostics.Add(Diag(DiagnosticDescriptors.ContainingTypeNotPartial, result.ClassLocation, className, outer.Name));
                continue;
            }

            string keyword = decl switch
            {
                RecordDeclarationSyntax r when r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) => "record struct",
                RecordDeclarationSyntax => "record",
                StructDeclarationSyntax => "struct",
                InterfaceDeclarationSyntax => "interface",
                _ => "class",
            };
            containing.Insert(0, new ContainingType(keyword, outer.Name));
        }

        string? outputName = null;
        foreach (var named in context.Attributes[0].NamedArguments)
        {
            if (named.Key == "Output" && named.Value.Value is string s)
            {
                outputName = s;
            }
        }

        // Layer attributes in source order (a partial class may spread them over several files).
        var attributes = symbol.GetAttributes()
            .Where(a => a.AttributeClass is { } c && c.ContainingNamespace?.ToDisplayString() == Namespace && a.ApplicationSyntaxReference is not null)
            .OrderBy(a => a.ApplicationSyntaxReference!.SyntaxTree.FilePath, StringComparer.Ordinal)
            .ThenBy(a => a.ApplicationSyntaxReference!.Span.Start)
            .ToList();

        int inputC = 0, inputH = 0, inputW = 0, inputs = 0;
        var layers = new List<LayerSpec>();
        var counters = new Dictionary<string, int>();
        foreach (var attribute in attributes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var syntax = attribute.ApplicationSyntaxReference!.GetSyntax(cancellationToken) as AttributeSyntax;
            string attrName = attribute.AttributeClass!.Name;
            if (attrName == "InputAttribute")
            {
                inputs++;
                if (inputs == 1)
                {
                    result.InputLocation = LocationInfo.From(syntax);
                    var args = attribute.ConstructorArguments;
                    if (args.Length == 3)
                    {
                        inputC = args[0].Value as int? ?? 0;
                        inputH = args[1].Value as int? ?? 0;
                        inputW = args[2].Value as int? ?? 0;
                    }
                }
                else
                {
                    result.Diagnostics.Add(Diag(DiagnosticDescriptors.DuplicateInput, LocationInfo.From(syntax), className));
                }

                continue;
            }

            var layer = ParseLayer(attribute, attrName, counters, layers.Count == 0 ? "input" : layers[layers.Count - 1].Name);
            if (layer is null)
            {
                continue;
            }

            layers.Add(layer);
            result.Sources.Add(new LayerSource(syntax, attribute.AttributeConstructor));
        }

        if (inputs == 0)
        {
            result.Diagnostics.Add(Diag(DiagnosticDescriptors.MissingInput, result.NetworkAttributeLocation ?? result.ClassLocation, className));
        }

        if (layers.Count == 0)
        {
            result.Diagnostics.Add(Diag(DiagnosticDescriptors.NoLayers, result.NetworkAttributeLocation ?? result.ClassLocation, className));
        }

        string? ns = symbol.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        string accessibility = symbol.DeclaredAccessibility switch
        {
            Accessibility.Public => "public",
            Accessibility.Internal => "internal",
            Accessibility.Private => "private",
            Accessibility.Protected => "protected",
            Accessibility.ProtectedOrInternal => "protected internal",
            Accessibility.ProtectedAndInternal => "private protected",
            _ => "internal",
        };

        result.Spec = new NetworkSpec(ns, containing.ToEquatableArray(), className, accessibility, inputC, inputH, inputW, layers.ToEquatableArray(), outputName);
        return result;
    }

    private static LayerSpec? ParseLayer(AttributeData a, string attrName, Dictionary<string, int> counters, string previous)
    {
        string display = attrName.EndsWith("Attribute", StringComparison.Ordinal) ? attrName.Substring(0, attrName.Length - "Attribute".Length) : attrName;
        var ctor = a.ConstructorArguments;
        int Ctor(int i) => i < ctor.Length && ctor[i].Value is int v ? v : 0;
        var named = a.NamedArguments.ToDictionary(kv => kv.Key, kv => kv.Value);
        int Int(string name, int fallback) => named.TryGetValue(name, out var v) && v.Value is int i ? i : fallback;
        bool Bool(string name, bool fallback) => named.TryGetValue(name, out var v) && v.Value is bool b ? b : fallback;
        float Float(string name, float fallback) => named.TryGetValue(name, out var v) && v.Value is float f ? f : fallback;
        Activation Act(Activation fallback) => named.TryGetValue("Activation", out var v) && v.Value is int i ? (Activation)i : fallback;

        LayerKind kind;
        string prefix;
        Activation activation = Activation.None;
        switch (attrName)
        {
            case "Conv2DAttribute": kind = LayerKind.Conv2D; prefix = "conv"; break;
            case "DenseAttribute": kind = LayerKind.Dense; prefix = "fc"; break;
            case "MaxPool2DAttribute": kind = LayerKind.MaxPool2D; prefix = "maxpool"; break;
            case "AvgPool2DAttribute": kind = LayerKind.AvgPool2D; prefix = "avgpool"; break;
            case "GlobalAvgPool2DAttribute": kind = LayerKind.GlobalAvgPool2D; prefix = "gap"; break;
            case "GlobalMaxPool2DAttribute": kind = LayerKind.GlobalMaxPool2D; prefix = "gmp"; break;
            case "FlattenAttribute": kind = LayerKind.Flatten; prefix = "flatten"; break;
            case "DropoutAttribute": kind = LayerKind.Dropout; prefix = "dropout"; break;
            case "BatchNorm2DAttribute": kind = LayerKind.BatchNorm2D; prefix = "bn"; break;
            case "AddAttribute": kind = LayerKind.Add; prefix = "add"; break;
            case "ConcatAttribute": kind = LayerKind.Concat; prefix = "concat"; break;
            case "ReLUAttribute": kind = LayerKind.Activation; prefix = "relu"; activation = Activation.Relu; break;
            case "ReLU6Attribute": kind = LayerKind.Activation; prefix = "relu6_"; activation = Activation.Relu6; break;
            case "LeakyReLUAttribute": kind = LayerKind.Activation; prefix = "leakyrelu"; activation = Activation.LeakyRelu; break;
            case "SigmoidAttribute": kind = LayerKind.Activation; prefix = "sigmoid"; activation = Activation.Sigmoid; break;
            case "TanhAttribute": kind = LayerKind.Activation; prefix = "tanh"; activation = Activation.Tanh; break;
            case "SiLUAttribute": kind = LayerKind.Activation; prefix = "silu"; activation = Activation.SiLU; break;
            case "SoftmaxAttribute": kind = LayerKind.Activation; prefix = "softmax"; activation = Activation.Softmax; break;
            default: return null; // NetworkAttribute, or an attribute this generator version does not know.
        }

        counters.TryGetValue(prefix, out int count);
        counters[prefix] = ++count;
        string name = named.TryGetValue("Name", out var nameArg) && nameArg.Value is string given && given.Length > 0 ? given : prefix + count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string from = named.TryGetValue("From", out var fromArg) && fromArg.Value is string f && f.Length > 0 ? f : previous;
        var inputs = new List<string> { from };

        int units = 0, kh = 1, kw = 1, sh = 1, sw = 1, pt = 0, pl = 0, pb = 0, pr = 0, dh = 1, dw = 1, groups = 1;
        bool bias = false, padSame = false, ceil = false, countIncludePad = true;
        float alpha = Float("Alpha", 0.01f), eps = 1e-5f;
        switch (kind)
        {
            case LayerKind.Conv2D:
                units = Ctor(0);
                kh = Ctor(1);
                kw = ctor.Length >= 3 ? Ctor(2) : kh;
                sh = Int("StrideHeight", Int("Stride", 1));
                sw = Int("StrideWidth", Int("Stride", 1));
                dh = Int("DilationHeight", Int("Dilation", 1));
                dw = Int("DilationWidth", Int("Dilation", 1));
                var mode = (PaddingMode)Int("PaddingMode", 0);
                padSame = mode == PaddingMode.Same;
                if (mode == PaddingMode.Explicit)
                {
                    int p = Int("Padding", 0);
                    int ph = Int("PaddingHeight", p), pw = Int("PaddingWidth", p);
                    pt = Int("PadTop", ph);
                    pb = Int("PadBottom", ph);
                    pl = Int("PadLeft", pw);
                    pr = Int("PadRight", pw);
                }

                groups = Int("Groups", 1);
                bias = Bool("Bias", true);
                activation = Act(Activation.None);
                break;
            case LayerKind.Dense:
                units = Ctor(0);
                bias = Bool("Bias", true);
                activation = Act(Activation.None);
                break;
            case LayerKind.MaxPool2D:
            case LayerKind.AvgPool2D:
                kh = Ctor(0);
                kw = ctor.Length >= 2 ? Ctor(1) : kh;
                int stride = Int("Stride", 0);
                sh = Int("StrideHeight", stride == 0 ? kh : stride);
                sw = Int("StrideWidth", stride == 0 ? kw : stride);
                int pad = Int("Padding", 0);
                pt = pb = Int("PaddingHeight", pad);
                pl = pr = Int("PaddingWidth", pad);
                dh = dw = kind == LayerKind.MaxPool2D ? Int("Dilation", 1) : 1;
                ceil = Bool("CeilMode", false);
                countIncludePad = Bool("CountIncludePad", true);
                break;
            case LayerKind.BatchNorm2D:
                eps = Float("Eps", 1e-5f);
                activation = Act(Activation.None);
                break;
            case LayerKind.Add:
            case LayerKind.Concat:
                inputs.Clear();
                if (ctor.Length == 1 && ctor[0].Kind == TypedConstantKind.Array && !ctor[0].IsNull)
                {
                    foreach (var v in ctor[0].Values)
                    {
                        inputs.Add(v.Value as string ?? string.Empty);
                    }
                }

                activation = kind == LayerKind.Add ? Act(Activation.None) : Activation.None;
                break;
            case LayerKind.Activation:
                if (activation == Activation.LeakyRelu && ctor.Length == 1 && ctor[0].Value is float ctorAlpha)
                {
                    alpha = ctorAlpha;
                }

                break;
        }

        return new LayerSpec(kind, name, inputs.ToEquatableArray(), units, kh, kw, sh, sw, pt, pl, pb, pr, padSame, dh, dw, groups, bias, activation, alpha, ceil, countIncludePad, eps)
        {
            DisplayKind = display,
        };
    }

    public static DiagnosticInfo Diag(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] args) =>
        new(descriptor.Id, location, args.Select(a => Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty).ToEquatableArray());
}
