using System;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Generator.Parsing;

/// <summary>
/// Checks of a layer attribute's arguments that need the attribute's raw values, before they become a
/// <see cref="LayerSpec"/>: the layer name, enum values no member has, Dropout's probability.
/// </summary>
internal static class ArgumentChecks
{
    /// <summary>All checks of one layer attribute; problems go to <paramref name="diagnostics"/>, located through <paramref name="src"/>.</summary>
    public static void Check(AttributeData attribute, LayerSpec layer, LayerSourceMap src, DiagnosticBag diagnostics)
    {
        if (attribute.NamedArguments.Any(a => a.Key == "Name" && a.Value.Value is string) && NameProblem(layer.Name) is { } problem)
        {
            diagnostics.Add(DiagnosticDescriptors.InvalidName, src.Argument("Name"), layer.DisplayKind, SymbolDisplay.FormatLiteral(layer.Name, quote: true), problem);
        }

        var parameters = attribute.AttributeConstructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
        for (int i = 0; i < attribute.ConstructorArguments.Length && i < parameters.Length; i++)
        {
            Enum(attribute.ConstructorArguments[i], parameters[i].Name, layer, src, diagnostics);
        }

        foreach (var named in attribute.NamedArguments)
        {
            Enum(named.Value, named.Key, layer, src, diagnostics);
        }

        if (layer.Kind == LayerKind.Dropout && attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is float p && !(p >= 0f && p <= 1f))
        {
            diagnostics.Add(DiagnosticDescriptors.InvalidArgument, src.Argument("p"), layer.DisplayKind, layer.Name,
                "the drop probability must be between 0 and 1 (as in PyTorch), but is " + p.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Why a layer name cannot be a state_dict key (null when it can): empty, the network input's name, a line break or
    /// another control character (no key holds one, and generated comments could not), an unpaired surrogate (UTF-8,
    /// and so a safetensors header, cannot encode it). Every other character works: names reach generated code only in
    /// escaped strings, XML-escaped comments and identifiers made of their letters and digits.
    /// </summary>
    public static string? NameProblem(string name)
    {
        if (name.Length == 0)
        {
            return "is empty; remove Name to use the default name, or give one";
        }

        if (name == "input")
        {
            return "is the name of the network's input (From = \"input\" reads it); rename the layer";
        }

        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            string code = "U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture);
            if (c is '\n' or '\r' or '\u0085' or '\u2028' or '\u2029')
            {
                return $"contains a line break ({code}); a state_dict key never holds one, so remove it";
            }

            if (char.IsControl(c))
            {
                return $"contains the control character {code}; a state_dict key never holds one, so remove it";
            }

            bool paired = char.IsHighSurrogate(c) ? i + 1 < name.Length && char.IsLowSurrogate(name[i + 1])
                : !char.IsLowSurrogate(c) || (i > 0 && char.IsHighSurrogate(name[i - 1]));
            if (!paired)
            {
                return $"contains an unpaired surrogate ({code}), which UTF-8 (and so a safetensors file) cannot encode; remove it";
            }
        }

        return null;
    }

    /// <summary>An enum argument whose value no member of the enum has (<c>(Activation)99</c>).</summary>
    private static void Enum(TypedConstant value, string argument, LayerSpec layer, LayerSourceMap src, DiagnosticBag diagnostics)
    {
        if (value.Kind != TypedConstantKind.Enum || value.Type is not INamedTypeSymbol type || value.Value is null)
        {
            return;
        }

        var members = type.GetMembers().OfType<IFieldSymbol>().Where(f => f.HasConstantValue).ToList();
        if (members.Any(f => Equals(f.ConstantValue, value.Value)))
        {
            return;
        }

        string shown = Convert.ToString(value.Value, CultureInfo.InvariantCulture) ?? "?";
        diagnostics.Add(DiagnosticDescriptors.InvalidArgument, src.Argument(argument), layer.DisplayKind, layer.Name,
            $"{Capitalized(argument)} = ({type.Name}){shown} is not a value of {type.Name}; use one of {string.Join(", ", members.Select(m => type.Name + "." + m.Name))}");
    }

    private static string Capitalized(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s.Substring(1);
}
