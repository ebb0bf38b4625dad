using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator.Parsing;

/// <summary>
/// What a network class must be for the generated members to land on it and compile: a non-static, non-abstract,
/// non-file-local class or record without a primary constructor, whose base class has a parameterless constructor,
/// with its layers declared on one part, and with no member (its own or inherited) named like a generated one.
/// </summary>
internal static class ClassChecks
{
    /// <summary>
    /// The members the generated code declares in every network class (the weight fields, one pair per weighted layer,
    /// come from the plan). Kept in step with the emitter by <c>HostileClassTests</c>, which compiles networks reaching
    /// every path of the shell and compares.
    /// </summary>
    public static readonly string[] GeneratedMembers =
    {
        "InputChannels", "InputHeight", "InputWidth", "InputSize", "OutputSize", "ParameterCount", "Flops", "WorkspaceFloats", "Summary",
        "InputShape", "OutputShape", "VectorWidth", "Load", "Predict", "PredictBatch", "Classify", "Run", "RunBatch",
        "RunGroup", "ChooseWidth", "Kernels128", "Kernels256", "Kernels512", "t_workspace", "t_output", "s_runSlice", "_width",
        "RunShared", "s_share128", "s_share256", "s_share512",
    };

    /// <summary>Generated methods a user may overload (a user method of the same name with other parameters is fine).</summary>
    private static readonly HashSet<string> GeneratedMethods = new(StringComparer.Ordinal)
    {
        "Load", "Predict", "PredictBatch", "Classify", "Run", "RunBatch", "RunGroup", "ChooseWidth",
    };

    /// <summary>Contextual keywords the generated code writes unqualified: a type of that name in scope would capture them.</summary>
    public static readonly string[] ContextualKeywords = { "var", "nuint" };

    /// <summary>An identifier as C# writes it: a keyword, reserved or contextual, gets an <c>@</c>.</summary>
    public static string Escape(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    /// <summary>The class's kind: static, abstract, file-local, a primary constructor, a base class the generated constructor cannot call.</summary>
    public static void Kind(INamedTypeSymbol symbol, LocationInfo? at, DiagnosticBag diagnostics, CancellationToken cancellationToken)
    {
        void Report(string why) => diagnostics.Add(DiagnosticDescriptors.UnsupportedClass, at, symbol.Name, why);

        if (symbol.IsStatic)
        {
            Report("is static; CnnGen adds instance members (the weights, Predict) and a constructor to it, so remove 'static'");
        }
        else if (symbol.IsAbstract)
        {
            Report("is abstract; the generated Load creates instances of it, so remove 'abstract'");
        }

        if (symbol.IsFileLocal)
        {
            Report("is file-local; the generated code is in another file, where the name means another type, so remove 'file'");
        }

        for (var outer = symbol.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (outer.IsFileLocal)
            {
                Report($"is nested in the file-local type '{outer.Name}'; the generated code is in another file, where that name means another type, so remove 'file'");
            }
        }

        foreach (var reference in symbol.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax { ParameterList: not null })
            {
                Report("has a primary constructor; the generated constructor would have to call it, so remove the parameter list");
                break;
            }
        }

        if (symbol.BaseType is { SpecialType: not SpecialType.System_Object, TypeKind: TypeKind.Class } baseType
            && !baseType.InstanceConstructors.Any(c => c.DeclaredAccessibility != Accessibility.Private && c.Parameters.All(p => p.IsOptional || p.IsParams)))
        {
            Report($"derives from '{baseType.Name}', which has no accessible parameterless constructor for the generated constructor to call; add one, or derive from another class");
        }
    }

    /// <summary>
    /// Layer attributes on more than one part of a partial class: their order would be the order of files. Reported on
    /// the first layer attribute of the second part.
    /// </summary>
    public static void SplitLayers(string className, IReadOnlyList<AttributeData> layers, DiagnosticBag diagnostics, CancellationToken cancellationToken)
    {
        SyntaxNode? first = null;
        foreach (var attribute in layers)
        {
            var syntax = attribute.ApplicationSyntaxReference!.GetSyntax(cancellationToken);
            var declaration = syntax.Ancestors().OfType<TypeDeclarationSyntax>().FirstOrDefault();
            if (declaration is null)
            {
                continue;
            }

            if (first is null)
            {
                first = declaration;
            }
            else if (declaration != first)
            {
                diagnostics.Add(DiagnosticDescriptors.SplitLayers, LocationInfo.From(syntax), className, Where(first), Where(declaration));
                return;
            }
        }
    }

    private static string Where(SyntaxNode node)
    {
        var span = node.GetLocation().GetLineSpan();
        return Path.GetFileName(span.Path) + " line " + (span.StartLinePosition.Line + 1).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The class's name, its own members and the members it inherits against the names the generated code declares in
    /// it (<see cref="GeneratedMembers"/> and <paramref name="weightFields"/>: the weight fields and loader methods the plan named). A user method may overload a generated
    /// method; anything else of a generated name does not compile (or hides a base member, a warning).
    /// </summary>
    public static void Members(INamedTypeSymbol symbol, IEnumerable<string> weightFields, LocationInfo? at, DiagnosticBag diagnostics)
    {
        var generated = new HashSet<string>(GeneratedMembers.Concat(weightFields), StringComparer.Ordinal);
        if (generated.Contains(symbol.Name) || ContextualKeywords.Contains(symbol.Name))
        {
            string what = ContextualKeywords.Contains(symbol.Name)
                ? $"is named like the contextual keyword '{symbol.Name}', which the generated code uses inside it"
                : "has the name of a member CnnGen generates in it (C# forbids a member named like its class)";
            diagnostics.Add(DiagnosticDescriptors.ReservedName, at, "Network class", symbol.Name, what);
        }

        for (var outer = symbol.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            foreach (var parameter in outer.TypeParameters.Where(p => ContextualKeywords.Contains(p.Name)))
            {
                diagnostics.Add(DiagnosticDescriptors.ReservedName, LocationInfo.From(parameter.Locations.FirstOrDefault()), "Type parameter", parameter.Name,
                    $"is named like the contextual keyword '{parameter.Name}', which the generated code of network '{symbol.Name}' uses");
            }
        }

        foreach (var member in symbol.GetMembers())
        {
            if (!member.IsImplicitlyDeclared && generated.Contains(member.Name) && !(member is IMethodSymbol && GeneratedMethods.Contains(member.Name)))
            {
                diagnostics.Add(DiagnosticDescriptors.ReservedName, LocationInfo.From(member.Locations.FirstOrDefault(l => l.IsInSource)) ?? at,
                    Describe(member), member.Name, $"has the name of a member CnnGen generates in network '{symbol.Name}'");
            }
        }

        for (var type = symbol.BaseType; type is { SpecialType: not SpecialType.System_Object }; type = type.BaseType)
        {
            foreach (var member in type.GetMembers())
            {
                if (!member.IsImplicitlyDeclared && member.DeclaredAccessibility != Accessibility.Private && generated.Contains(member.Name)
                    && !(member is IMethodSymbol && GeneratedMethods.Contains(member.Name)))
                {
                    diagnostics.Add(DiagnosticDescriptors.ReservedName, at, Describe(member), type.Name + "." + member.Name,
                        $"is inherited by network '{symbol.Name}', which CnnGen gives a member of that name (hiding it is a warning)");
                }
            }
        }
    }

    private static string Describe(ISymbol member) => member switch
    {
        IFieldSymbol => "Field",
        IPropertySymbol => "Property",
        IMethodSymbol => "Method",
        IEventSymbol => "Event",
        INamedTypeSymbol => "Nested type",
        _ => "Member",
    };
}
