using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Emit;
using CnnGen.Generator.Model;
using CnnGen.Generator.Parsing;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator;

/// <summary>
/// The CnnGen incremental generator: <c>[Network]</c> classes -> parse -> shapes -> plan (per vector width) -> emit.
/// Diagnostics and sources go out on separate outputs, so moving a declaration re-reports diagnostics without
/// re-emitting kernels.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class CnnGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps, for incremental tests.</summary>
    public static class StepNames
    {
        /// <summary>Parse, shape inference and planning of one network.</summary>
        public const string Transform = "CnnGen.Transform";

        /// <summary>The model handed to the emitter.</summary>
        public const string Model = "CnnGen.Model";
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var results = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parser.NetworkAttributeName,
                static (node, _) => IsClass(node),
                static (ctx, ct) => Transform(ctx, ct))
            .WithTrackingName(StepNames.Transform);

        var diagnostics = results.Select(static (r, _) => r.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (spc, diags) =>
        {
            foreach (var d in diags)
            {
                spc.ReportDiagnostic(d.ToDiagnostic());
            }
        });

        // [Input] without [Network] is almost certainly a forgotten marker: say so instead of generating nothing.
        var orphans = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                "CnnGen.InputAttribute",
                static (node, _) => IsClass(node),
                static (ctx, _) => ctx.TargetSymbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == Parser.NetworkAttributeName)
                    ? null
                    : DiagnosticInfo.Create(DiagnosticDescriptors.MissingNetwork, LocationInfo.From(((TypeDeclarationSyntax)ctx.TargetNode).Identifier.GetLocation()), ctx.TargetSymbol.Name));
        context.RegisterSourceOutput(orphans, static (spc, diag) =>
        {
            if (diag is not null)
            {
                spc.ReportDiagnostic(diag.ToDiagnostic());
            }
        });

        var models = results.Select(static (r, _) => r.Model).WithTrackingName(StepNames.Model);
        context.RegisterSourceOutput(models, static (spc, model) =>
        {
            if (model is null)
            {
                return;
            }

            IEnumerable<GeneratedFile> files;
            try
            {
                files = Emitter.Emit(model).ToList();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InternalError, null, model.Net.Spec.ClassName, "emit", ex.GetType().Name + ": " + ex.Message));
                return;
            }

            foreach (var f in files)
            {
                spc.AddSource(f.HintName, f.Text);
            }
        });
    }

    /// <summary>A class or record class declaration ([Network] is a class attribute: the compiler rejects it elsewhere).</summary>
    private static bool IsClass(SyntaxNode node) =>
        node is ClassDeclarationSyntax || (node is RecordDeclarationSyntax r && !r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword));

    internal static GenerationResult Transform(GeneratorAttributeSyntaxContext ctx, CancellationToken ct)
    {
        var diagnostics = new DiagnosticBag();
        var symbol = (INamedTypeSymbol)ctx.TargetSymbol;
        if (!IsFirstNetworkDeclaration(symbol, ctx.TargetNode, ct))
        {
            // [Network] on two parts of one class (CS0579): the first part generates, once.
            return new GenerationResult(null, diagnostics.ToEquatableArray());
        }

        try
        {
            var parsed = Parser.Parse(ctx, diagnostics, ct);
            var shaped = ShapeInference.Infer(parsed.Spec, parsed.Sources, diagnostics);
            if (shaped is null)
            {
                return new GenerationResult(null, diagnostics.ToEquatableArray());
            }

            CommonPlan common;
            EquatableArray<NetworkPlan> plans;
            try
            {
                (common, plans) = Planner.Plan(shaped);
            }
            catch (LimitException ex)
            {
                diagnostics.Add(DiagnosticDescriptors.TooLarge, parsed.Sources.NetworkAttribute ?? parsed.Sources.Class, parsed.Spec.ClassName, ex.Message);
                return new GenerationResult(null, diagnostics.ToEquatableArray());
            }

            // Names the generated code declares in the class, against the user's members (the weight fields and loaders come from the plan).
            int errors = diagnostics.ErrorCount;
            ClassChecks.Members(symbol, common.Weights.SelectMany(w => w.Fields).Concat(common.Loaders), parsed.Sources.Class, diagnostics);
            if (diagnostics.ErrorCount > errors)
            {
                return new GenerationResult(null, diagnostics.ToEquatableArray());
            }

            TrainingModel? training = null;
            try
            {
                training = parsed.Spec.Trainable ? TrainingPlanner.Plan(shaped) : null;
            }
            catch (NotTrainableException ex)
            {
                var layer = shaped.Layers[ex.Layer].Spec;
                diagnostics.Add(DiagnosticDescriptors.NotTrainable, parsed.Sources.Layers[ex.Layer].Attribute, parsed.Spec.ClassName, $"{layer.DisplayKind} '{layer.Name}' ({ex.Message})");
                return new GenerationResult(null, diagnostics.ToEquatableArray());
            }

            var model = new NetworkModel
            {
                Net = shaped,
                Common = common,
                Plans = plans,
                SpecHash = SpecHash.Compute(shaped, Emitter.Version),
                Training = training,
            };
            return new GenerationResult(model, diagnostics.ToEquatableArray());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Never throw on user code: an unexpected failure becomes a diagnostic naming the network.
            diagnostics.Add(DiagnosticDescriptors.InternalError, LocationInfo.From(ctx.TargetNode.GetLocation()),
                symbol.Name, "plan", ex.GetType().Name + ": " + ex.Message);
            return new GenerationResult(null, diagnostics.ToEquatableArray());
        }
    }

    /// <summary>Whether <paramref name="node"/> is the first declaration of <paramref name="symbol"/> that carries [Network].</summary>
    private static bool IsFirstNetworkDeclaration(INamedTypeSymbol symbol, SyntaxNode node, CancellationToken ct)
    {
        foreach (var attribute in symbol.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == Parser.NetworkAttributeName && attribute.ApplicationSyntaxReference is { } reference)
            {
                var declaration = reference.GetSyntax(ct).Ancestors().OfType<TypeDeclarationSyntax>().FirstOrDefault();
                return declaration is null || declaration == node;
            }
        }

        return true;
    }
}
