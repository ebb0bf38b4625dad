using System;
using System.Collections.Generic;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Shapes;

/// <summary>
/// The checks of a layer's own arguments, which do not depend on its input's shape: sizes, strides, dilations and
/// groups at least 1, padding at least 0, finite floats, the input count of a merge. Shape inference runs them on every
/// layer, even after an earlier layer failed, so every bad layer is reported at once.
/// </summary>
internal static class LayerChecks
{
    /// <summary>Reports every problem of <paramref name="l"/>'s arguments; false when there was one.</summary>
    public static bool Arguments(LayerSpec l, LayerSourceMap src, Action<DiagnosticDescriptor, LocationInfo?, object[]> report)
    {
        bool ok = true;
        void Fail(DiagnosticDescriptor d, LocationInfo? loc, params object[] args)
        {
            report(d, loc, args);
            ok = false;
        }

        // args: the arguments that set the value, the most specific first (StrideHeight overrides Stride). One argument
        // setting two values (Stride = -1, MaxPool2D(0)) is reported once.
        var reported = new HashSet<LocationInfo?>();
        void Positive(int value, string what, string[] args, int min = 1)
        {
            var at = src.Argument(args);
            if (value < min && reported.Add(at))
            {
                Fail(DiagnosticDescriptors.NonPositive, at, l.DisplayKind, l.Name, what, min, value);
            }
        }

        if (float.IsNaN(l.Alpha) || float.IsInfinity(l.Alpha))
        {
            Fail(DiagnosticDescriptors.InvalidArgument, src.Argument("Alpha"), l.DisplayKind, l.Name, "Alpha must be a finite number");
        }

        switch (l.Kind)
        {
            case LayerKind.Conv2D:
                Positive(l.Units, "Filters", new[] { "filters" });
                Positive(l.KernelH, "the kernel height", new[] { "kernelHeight", "kernelSize" });
                Positive(l.KernelW, "the kernel width", new[] { "kernelWidth", "kernelSize" });
                Positive(l.StrideH, "the stride", new[] { "StrideHeight", "Stride" });
                Positive(l.StrideW, "the stride", new[] { "StrideWidth", "Stride" });
                Positive(l.DilationH, "the dilation", new[] { "DilationHeight", "Dilation" });
                Positive(l.DilationW, "the dilation", new[] { "DilationWidth", "Dilation" });
                Positive(l.Groups, "Groups", new[] { "Groups" });
                Positive(l.PadTop, "PadTop", new[] { "PadTop", "PaddingHeight", "Padding" }, 0);
                Positive(l.PadBottom, "PadBottom", new[] { "PadBottom", "PaddingHeight", "Padding" }, 0);
                Positive(l.PadLeft, "PadLeft", new[] { "PadLeft", "PaddingWidth", "Padding" }, 0);
                Positive(l.PadRight, "PadRight", new[] { "PadRight", "PaddingWidth", "Padding" }, 0);
                if (l.PadSame && (l.StrideH != 1 || l.StrideW != 1))
                {
                    Fail(DiagnosticDescriptors.InvalidPadding, src.Argument("PaddingMode"), l.DisplayKind, l.Name,
                        "PaddingMode.Same needs stride 1 (as in PyTorch); use explicit padding with a strided convolution");
                }

                break;

            case LayerKind.MaxPool2D:
            case LayerKind.AvgPool2D:
                Positive(l.KernelH, "the window height", new[] { "height", "size" });
                Positive(l.KernelW, "the window width", new[] { "width", "size" });
                // The stride defaults to the window: a bad window is reported once, not again as its stride.
                Positive(l.StrideH == l.KernelH ? 1 : l.StrideH, "the stride", new[] { "StrideHeight", "Stride" });
                Positive(l.StrideW == l.KernelW ? 1 : l.StrideW, "the stride", new[] { "StrideWidth", "Stride" });
                Positive(l.DilationH, "the dilation", new[] { "Dilation" });
                Positive(l.PadTop, "the padding", new[] { "PaddingHeight", "Padding" }, 0);
                Positive(l.PadLeft, "the padding", new[] { "PaddingWidth", "Padding" }, 0);
                if (ok && (l.PadTop > l.KernelH / 2 || l.PadLeft > l.KernelW / 2))
                {
                    Fail(DiagnosticDescriptors.InvalidPadding, src.Argument(l.PadTop > l.KernelH / 2 ? "PaddingHeight" : "PaddingWidth", "Padding"), l.DisplayKind, l.Name,
                        $"padding {l.PadTop}x{l.PadLeft} is more than half the {l.KernelH}x{l.KernelW} window (PyTorch requires padding <= kernel / 2); use a smaller padding");
                }

                break;

            case LayerKind.Dense:
                Positive(l.Units, "Units", new[] { "units" });
                break;

            case LayerKind.AdaptiveAvgPool2D:
                // AdaptiveAvgPool2D(outputSize) or AdaptiveAvgPool2D(outputHeight, outputWidth).
                Positive(l.OutputH, "the output height", new[] { "outputHeight", "outputSize" });
                Positive(l.OutputW, "the output width", new[] { "outputWidth", "outputSize" });
                break;

            case LayerKind.BatchNorm2D:
                if (!(l.Eps > 0f) || float.IsInfinity(l.Eps))
                {
                    Fail(DiagnosticDescriptors.InvalidArgument, src.Argument("Eps"), l.DisplayKind, l.Name, "Eps must be a positive finite number (PyTorch's default is 1e-5)");
                }

                break;

            case LayerKind.Add:
            case LayerKind.Concat:
                if (l.Inputs.Count < 2)
                {
                    string example = l.Kind == LayerKind.Add ? "[Add(\"conv2\", \"input\")]" : "[Concat(\"branch1\", \"branch2\")]";
                    string given = l.Inputs.Count == 0 ? "none" : "only '" + l.Inputs[0] + "'";
                    Fail(DiagnosticDescriptors.ShapeMismatch, src.Argument("inputs"), l.DisplayKind, l.Name,
                        $"{l.DisplayKind} needs at least two inputs, e.g. {example}, but has {given}");
                }

                break;
        }

        return ok;
    }
}
