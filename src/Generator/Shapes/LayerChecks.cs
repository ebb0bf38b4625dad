using System;
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

        void Positive(int value, string what, string arg, int min = 1)
        {
            if (value < min)
            {
                Fail(DiagnosticDescriptors.NonPositive, src.Argument(arg), l.DisplayKind, l.Name, what, min, value);
            }
        }

        if (float.IsNaN(l.Alpha) || float.IsInfinity(l.Alpha))
        {
            Fail(DiagnosticDescriptors.InvalidArgument, src.Argument("Alpha"), l.DisplayKind, l.Name, "Alpha must be a finite number");
        }

        switch (l.Kind)
        {
            case LayerKind.Conv2D:
                Positive(l.Units, "Filters", "filters");
                Positive(l.KernelH, "the kernel height", "kernelHeight");
                Positive(l.KernelW, "the kernel width", "kernelWidth");
                Positive(l.StrideH, "the stride", "Stride");
                Positive(l.StrideW, "the stride", "Stride");
                Positive(l.DilationH, "the dilation", "Dilation");
                Positive(l.DilationW, "the dilation", "Dilation");
                Positive(l.Groups, "Groups", "Groups");
                Positive(l.PadTop, "PadTop", "Padding", 0);
                Positive(l.PadBottom, "PadBottom", "Padding", 0);
                Positive(l.PadLeft, "PadLeft", "Padding", 0);
                Positive(l.PadRight, "PadRight", "Padding", 0);
                if (l.PadSame && (l.StrideH != 1 || l.StrideW != 1))
                {
                    Fail(DiagnosticDescriptors.InvalidPadding, src.Argument("PaddingMode"), l.DisplayKind, l.Name,
                        "PaddingMode.Same needs stride 1 (as in PyTorch); use explicit padding with a strided convolution");
                }

                break;

            case LayerKind.MaxPool2D:
            case LayerKind.AvgPool2D:
                Positive(l.KernelH, "the window height", "height");
                Positive(l.KernelW, "the window width", "width");
                Positive(l.StrideH, "the stride", "Stride");
                Positive(l.StrideW, "the stride", "Stride");
                Positive(l.DilationH, "the dilation", "Dilation");
                Positive(l.PadTop, "the padding", "Padding", 0);
                Positive(l.PadLeft, "the padding", "Padding", 0);
                if (ok && (l.PadTop > l.KernelH / 2 || l.PadLeft > l.KernelW / 2))
                {
                    Fail(DiagnosticDescriptors.InvalidPadding, src.Argument("Padding"), l.DisplayKind, l.Name,
                        $"padding {l.PadTop}x{l.PadLeft} is more than half the {l.KernelH}x{l.KernelW} window (PyTorch requires padding <= kernel / 2); use a smaller padding");
                }

                break;

            case LayerKind.Dense:
                Positive(l.Units, "Units", "units");
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
