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

/// <summary>What the parser found: the spec and, for diagnostics, where each part was declared.</summary>
internal sealed class ParsedNetwork
{
    public ParsedNetwork(NetworkSpec spec, NetworkSourceMap sources)
    {
        Spec = spec;
        Sources = sources;
    }

    public NetworkSpec Spec { get; }

    public NetworkSourceMap Sources { get; }
}

/// <summary>
/// Turns the attributes on a network class into a <see cref="NetworkSpec"/>. This is the only part of the
/// generator that sees Roslyn symbols and syntax.
/// </summary>
internal static class Parser
{
    public const string Namespace = "CnnGen";
    public const string NetworkAttributeName = "CnnGen.NetworkAttribute";

    /// <summary>Parses one <c>[Network]</c> class; problems go to <paramref name="diagnostics"/>.</summary>
    public static ParsedNetwork Parse(GeneratorAttributeSyntaxContext context, DiagnosticBag diagnostics, CancellationToken cancellationToken)
    {
        var sources = new NetworkSourceMap();
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var classSyntax = (TypeDeclarationSyntax)context.TargetNode;
        sources.Class = LocationInfo.From(classSyntax.Identifier.GetLocation());
        sources.NetworkAttribute = LocationInfo.From(context.Attributes[0].ApplicationSyntaxReference?.GetSyntax(cancellationToken));
        string className = symbol.Name;

        if (!classSyntax.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(DiagnosticDescriptors.NotPartial, sources.Class, className);
        }

        if (symbol.TypeParameters.Length > 0)
        {
            diagnostics.Add(DiagnosticDescriptors.GenericNotSupported, sources.Class, className);
        }

        var containing = new List<ContainingType>();
        for (var outer = symbol.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            var decl = outer.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<TypeDeclarationSyntax>()
                .FirstOrDefault(d => d.Modifiers.Any(SyntaxKind.PartialKeyword));
            if (decl is null)
            {
                diagnostics.Add(DiagnosticDescriptors.ContainingTypeNotPartial, sources.Class, className, outer.Name);
                continue;
            }

            string keyword = decl switch
            {
                RecordDeclarationSyntax r when r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) => "partial record struct",
                RecordDeclarationSyntax => "partial record",
                StructDeclarationSyntax when outer.IsRefLikeType => "ref partial struct",
                StructDeclarationSyntax => "partial struct",
                InterfaceDeclarationSyntax => "partial interface",
                _ => "partial class",
            };
            string typeParameters = outer.TypeParameters.Length == 0 ? string.Empty
                : "<" + string.Join(", ", outer.TypeParameters.Select(p => Variance(p) + ClassChecks.Escape(p.Name))) + ">";
            containing.Insert(0, new ContainingType(keyword, ClassChecks.Escape(outer.Name), typeParameters));
        }

        ClassChecks.Kind(symbol, sources.Class, diagnostics, cancellationToken);

        string? outputName = null;
        bool trainable = false;
        bool winograd = true;
        foreach (var named in context.Attributes[0].NamedArguments)
        {
            if (named.Key == "Output" && named.Value.Value is string s)
            {
                outputName = s;
            }
            else if (named.Key == "Trainable" && named.Value.Value is bool t)
            {
                trainable = t;
            }
            else if (named.Key == "Winograd" && named.Value.Value is bool wg)
            {
                winograd = wg;
            }
        }

        // Layer attributes in source order (a partial class may spread them over several files).
        var attributes = symbol.GetAttributes()
            .Where(a => a.AttributeClass is { } c && c.ContainingNamespace?.ToDisplayString() == Namespace && a.ApplicationSyntaxReference is not null)
            .OrderBy(a => a.ApplicationSyntaxReference!.SyntaxTree.FilePath, StringComparer.Ordinal)
            .ThenBy(a => a.ApplicationSyntaxReference!.Span.Start)
            .ToList();
        ClassChecks.SplitLayers(className, attributes.Where(IsLayer).ToList(), diagnostics, cancellationToken);

        int inputC = 0, inputH = 0, inputW = 0, inputs = 0;
        var layers = new List<LayerSpec>();
        var counters = new Dictionary<string, int>();
        var inputAttribute = attributes.FirstOrDefault(a => a.AttributeClass!.Name == "InputAttribute");
        var channels = new ChannelTracker(inputAttribute is { ConstructorArguments.Length: 3 } && inputAttribute.ConstructorArguments[0].Value is int c0 ? c0 : 0);
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
                    sources.Input = LocationInfo.From(syntax);
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
                    diagnostics.Add(DiagnosticDescriptors.DuplicateInput, LocationInfo.From(syntax), className);
                }

                continue;
            }

            string previous = layers.Count == 0 ? "input" : layers[layers.Count - 1].Name;
            if (Blocks.IsBlock(attrName))
            {
                // A block stands for several ordinary layers, named and wired as torchvision builds it.
                foreach (var expanded in Blocks.Expand(attribute, SourceMap(syntax, attribute.AttributeConstructor), previous, channels, counters, diagnostics))
                {
                    layers.Add(expanded.Spec);
                    sources.Layers.Add(expanded.Source);
                    channels.Add(expanded.Spec);
                }

                continue;
            }

            var layer = ParseLayer(attribute, attrName, counters, previous);
            if (layer is null)
            {
                continue;
            }

            var layerSources = SourceMap(syntax, attribute.AttributeConstructor);
            ArgumentChecks.Check(attribute, layer, layerSources, diagnostics);
            layers.Add(layer);
            sources.Layers.Add(layerSources);
            channels.Add(layer);
        }

        if (inputs == 0)
        {
            diagnostics.Add(DiagnosticDescriptors.MissingInput, sources.NetworkAttribute ?? sources.Class, className);
        }

        if (layers.Count == 0)
        {
            diagnostics.Add(DiagnosticDescriptors.NoLayers, sources.NetworkAttribute ?? sources.Class, className);
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

        var spec = new NetworkSpec
        {
            Namespace = ns,
            ContainingTypes = containing.ToEquatableArray(),
            ClassName = ClassChecks.Escape(className),
            ClassKeyword = symbol.IsRecord ? "record" : "class",
            Accessibility = accessibility,
            InputC = inputC,
            InputH = inputH,
            InputW = inputW,
            Layers = layers.ToEquatableArray(),
            OutputName = outputName,
            Trainable = trainable,
            Winograd = winograd,
        };
        return new ParsedNetwork(spec, sources);
    }

    private static LayerSpec? ParseLayer(AttributeData a, string attrName, Dictionary<string, int> counters, string previous)
    {
        string display = attrName.EndsWith("Attribute", StringComparison.Ordinal) ? attrName.Substring(0, attrName.Length - "Attribute".Length) : attrName;
        var ctor = a.ConstructorArguments;
        int Ctor(int i) => i < ctor.Length && ctor[i].Value is int v ? v : 0;
        // A named argument given twice is a compiler error (CS0643); the first one counts here.
        var named = new Dictionary<string, TypedConstant>(StringComparer.Ordinal);
        foreach (var kv in a.NamedArguments)
        {
            if (!named.ContainsKey(kv.Key))
            {
                named.Add(kv.Key, kv.Value);
            }
        }

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
            case "MultiplyAttribute": kind = LayerKind.Multiply; prefix = "multiply"; break;
            case "AdaptiveAvgPool2DAttribute": kind = LayerKind.AdaptiveAvgPool2D; prefix = "avgpool"; break;
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
        // An empty Name is kept (and reported by ArgumentChecks); a missing or null one gets the default.
        string name = named.TryGetValue("Name", out var nameArg) && nameArg.Value is string given ? given : prefix + count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string from = named.TryGetValue("From", out var fromArg) && fromArg.Value is string f && f.Length > 0 ? f : previous;
        var inputs = new List<string> { from };

        int outH = 0, outW = 0;
        int units = 0, kh = 1, kw = 1, sh = 1, sw = 1, pt = 0, pl = 0, pb = 0, pr = 0, dh = 1, dw = 1, groups = 1;
        bool bias = false, padSame = false, ceil = false, countIncludePad = true;
        float alpha = Float("Alpha", 0.01f), eps = 1e-5f, dropout = 0.5f;
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
            case LayerKind.Dropout:
                dropout = ctor.Length == 1 && ctor[0].Value is float rate ? rate : 0.5f;
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
            case LayerKind.Multiply:
                inputs.Clear();
                inputs.Add(ctor.Length > 0 ? ctor[0].Value as string ?? string.Empty : string.Empty);
                inputs.Add(ctor.Length > 1 ? ctor[1].Value as string ?? string.Empty : string.Empty);
                activation = Act(Activation.None);
                break;
            case LayerKind.AdaptiveAvgPool2D:
                outH = Ctor(0);
                outW = ctor.Length >= 2 ? Ctor(1) : outH;
                break;
            case LayerKind.Activation:
                if (activation == Activation.LeakyRelu && ctor.Length == 1 && ctor[0].Value is float ctorAlpha)
                {
                    alpha = ctorAlpha;
                }

                break;
        }

        return new LayerSpec
        {
            Kind = kind,
            DisplayKind = display,
            Name = name,
            Inputs = inputs.ToEquatableArray(),
            Units = units,
            KernelH = kh,
            KernelW = kw,
            StrideH = sh,
            StrideW = sw,
            PadTop = pt,
            PadLeft = pl,
            PadBottom = pb,
            PadRight = pr,
            PadSame = padSame,
            DilationH = dh,
            DilationW = dw,
            Groups = groups,
            Bias = bias,
            Activation = activation,
            Alpha = alpha,
            CeilMode = ceil,
            CountIncludePad = countIncludePad,
            Eps = eps,
            OutputH = outH,
            OutputW = outW,
            DropoutP = dropout,
        };
    }

    /// <summary>A type parameter's variance as its declaration writes it (partial parts must repeat it).</summary>
    private static string Variance(ITypeParameterSymbol p) => p.Variance switch
    {
        VarianceKind.In => "in ",
        VarianceKind.Out => "out ",
        _ => string.Empty,
    };

    /// <summary>A layer attribute (one deriving from <c>CnnGen.LayerAttribute</c>), as opposed to [Network] and [Input].</summary>
    private static bool IsLayer(AttributeData attribute)
    {
        for (var type = attribute.AttributeClass; type is not null; type = type.BaseType)
        {
            if (type.Name == "LayerAttribute" && type.ContainingNamespace?.ToDisplayString() == Namespace)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Where each argument of a layer attribute is: named arguments by name, then constructor arguments by their
    /// parameter's name (a named argument wins over a constructor parameter of the same name).
    /// </summary>
    private static LayerSourceMap SourceMap(AttributeSyntax? syntax, IMethodSymbol? constructor)
    {
        var arguments = new List<KeyValuePair<string, LocationInfo?>>();
        var args = syntax?.ArgumentList?.Arguments;
        if (args is { } list)
        {
            foreach (var arg in list)
            {
                if (arg.NameEquals is { } ne)
                {
                    arguments.Add(new(ne.Name.Identifier.ValueText, LocationInfo.From(arg)));
                }
            }

            if (constructor is not null)
            {
                for (int i = 0; i < constructor.Parameters.Length && i < list.Count; i++)
                {
                    if (list[i].NameEquals is null)
                    {
                        arguments.Add(new(constructor.Parameters[i].Name, LocationInfo.From(list[i])));
                    }
                }
            }
        }

        return new LayerSourceMap(LocationInfo.From(syntax), arguments);
    }
}
