using System;
using System.Linq;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Kernels;

/// <summary>
/// Writes a dense layer (<see cref="DenseKernel"/>): a driver calling one method per tile shape; each tile
/// broadcasts every input feature once into its accumulators while the packed weights stream contiguously. With
/// batch groups, also the group kernel (<see cref="DenseGroupKernel"/>): images x vectors accumulators, each weight
/// vector loaded once for every image.
/// </summary>
internal static class DenseEmitter
{
    public static void Emit(KernelWriter kw, DenseKernel k)
    {
        var w = kw.W;
        int v = kw.V, tb = k.TileVectors;
        long features = k.Features;
        var last = k.Tiles.Count > 1 ? k.Tiles[1] : null;
        kw.Doc(k.Title, SplitRemarks(k, "register tiles", "tile",
            $"Input: {k.X.Describe()}" + (k.Hwc ? ", read in H, W, C order; the weights were permuted at load to PyTorch's C, H, W flatten order." : "."),
            $"Output: {k.Y.Describe()}.",
            $"Weights: packed at load in tiles of [{Count(features, "feature")}][{Count(k.PackVectors * v, "output")}]; a tile of {Count(tb, "vector")} streams {I(k.Tiles[0].Streams.Count)} of them" + (last is not null ? $", and a last tile of {Count(last.Vectors, "vector")}." : "."),
            $"Each feature is broadcast once and multiplied into {Count(tb, "accumulator vector")}; the weights stream contiguously."));
        using (kw.Method(k.Method, Parameters(1, "weight", "bias") + RangeParameters(k, "tile")))
        {
            kw.ArrayRef("w", "weight");
            kw.ArrayRef("b", "bias");
            long tile = features * tb * v;
            if (k.Split)
            {
                // Tiles 0 to FullTiles - 1 are full, tile FullTiles the narrower last one (when the outputs do not divide evenly).
                using (w.Block($"for (int t = tileStart; t < {Code.Math}.Min(tileEnd, {I(k.FullTiles)}); t++)"))
                {
                    w.Line($"{k.Tiles[0].Method}(ref x, ref At(ref w, t * {I(tile)}), ref At(ref b, t * {I(tb * v)}), ref At(ref y, t * {I(tb * v)}));");
                }

                if (last is not null)
                {
                    w.Line();
                    using (w.Block($"if (tileEnd > {I(k.FullTiles)})"))
                    {
                        w.Line($"{last.Method}(ref x, ref At(ref w, {I(k.FullTiles * tile)}), ref At(ref b, {I(k.FullTiles * tb * v)}), ref At(ref y, {I(k.FullTiles * tb * v)}));");
                    }
                }
            }
            else if (k.FullTiles == 1)
            {
                w.Line($"{k.Tiles[0].Method}(ref x, ref w, ref b, ref y);");
            }
            else if (k.FullTiles > 1)
            {
                using (w.Block($"for (int t = 0; t < {I(k.FullTiles)}; t++)"))
                {
                    w.Line($"{k.Tiles[0].Method}(ref x, ref At(ref w, t * {I(tile)}), ref At(ref b, t * {I(tb * v)}), ref At(ref y, t * {I(tb * v)}));");
                }
            }

            if (last is not null && !k.Split)
            {
                w.Line($"{last.Method}(ref x, ref At(ref w, {I(k.FullTiles * tile)}), ref At(ref b, {I(k.FullTiles * tb * v)}), ref At(ref y, {I(k.FullTiles * tb * v)}));");
            }
        }

        foreach (var t in k.Tiles)
        {
            Tile(kw, k, t);
        }

        if (k.Group is { } group)
        {
            Group(kw, k, group);
        }
    }

    private static void Tile(KernelWriter kw, DenseKernel k, DenseTile t)
    {
        var w = kw.W;
        var x = k.X;
        int v = kw.V, tb = t.Vectors, pv = k.PackVectors;
        w.Line();
        w.Line($"/// <summary>{Count(tb * v, "output")} of {Xml(k.LayerName)} over all {Count(k.Features, "feature")}.</summary>");
        using (kw.Method(t.Method, "ref float x, ref float w, ref float b, ref float y"))
        {
            kw.ActConstants(k.Activation);
            kw.Accumulators(new[] { "a" }, tb, j => kw.Load("b", Off(j * v)));

            // One weight stream per packed tile the register tile covers.
            void Body(string xRef, string feature)
            {
                w.Line($"var xk = Broadcast({xRef});");
                for (int m = 0; m < t.Streams.Count; m++)
                {
                    w.Line($"ref float w{I(m)} = ref At(ref w, {Lin(feature, t.Streams[m].FeatureStride, t.Streams[m].Offset)});");
                }

                for (int j = 0; j < tb; j++)
                {
                    w.Line($"a{I(j)} = Fma(xk, {kw.Load("w" + I(j / pv), Off((j % pv) * v))}, a{I(j)});");
                }
            }

            if (!k.Hwc)
            {
                using (w.Block($"for (int k = 0; k < {I(k.Features)}; k++)"))
                {
                    Body($"At(ref x, k)", "k");
                }
            }
            else if (k.MergedPixels)
            {
                using (w.Block($"for (int p = 0; p < {I(x.H * x.W)}; p++)"))
                {
                    w.Line($"ref float xp = ref At(ref x, p * {I(x.Cp)});");
                    using (w.Block($"for (int c = 0; c < {I(x.C)}; c++)"))
                    {
                        w.Line($"int k = (p * {I(x.C)}) + c;");
                        Body($"At(ref xp, c)", "k");
                    }
                }
            }
            else
            {
                using (w.Block($"for (int ih = 0; ih < {I(x.H)}; ih++)"))
                using (w.Block($"for (int iw = 0; iw < {I(x.W)}; iw++)"))
                {
                    w.Line($"ref float xp = ref At(ref x, {I(x.Origin)} + (ih * {I(x.RowStride)}) + (iw * {I(x.Cp)}));");
                    using (w.Block($"for (int c = 0; c < {I(x.C)}; c++)"))
                    {
                        w.Line($"int k = (((ih * {I(x.W)}) + iw) * {I(x.C)}) + c;");
                        Body($"At(ref xp, c)", "k");
                    }
                }
            }

            w.Line();
            for (int j = 0; j < tb; j++)
            {
                w.Line(kw.Store(kw.Act(k.Activation, $"a{I(j)}"), $"ref y, {I(j * v)}"));
            }
        }
    }

    private static void Group(KernelWriter kw, DenseKernel k, DenseGroupKernel g)
    {
        var w = kw.W;
        int v = kw.V, tb = g.TileVectors;
        long tile = k.Features * tb * v;
        w.Line();
        w.Line($"/// <summary>{Xml(k.Title)}, for {Count(g.Images, "image")} at once.</summary>");
        w.Line("/// <remarks>");
        w.Line($"/// Register tile: {Count(g.Images, "image")} x {Count(tb, "vector")} = {Count(g.Images * tb, "accumulator")}; per feature, {Count(tb, "weight load")} feed {Count(g.Images * tb, "FMA")}.<br/>");
        w.Line("/// </remarks>");
        using (kw.Method(g.Method, $"ref float x, ref float y, {kw.Buffer} weight, {kw.Buffer} bias"))
        {
            kw.ArrayRef("w", "weight");
            kw.ArrayRef("b", "bias");
            if (g.FullTiles > 0)
            {
                using (w.Block($"for (int t = 0; t < {I(g.FullTiles)}; t++)"))
                {
                    w.Line($"{g.TileMethod}(ref x, ref At(ref w, t * {I(tile)}), ref At(ref b, t * {I(tb * v)}), ref At(ref y, t * {I(tb * v)}));");
                }
            }

            if (g.LastTileMethod is not null)
            {
                w.Line($"{g.LastTileMethod}(ref x, ref At(ref w, {I(g.FullTiles * tile)}), ref At(ref b, {I(g.FullTiles * tb * v)}), ref At(ref y, {I(g.FullTiles * tb * v)}));");
            }
        }

        GroupTile(kw, k, g, tb, g.TileMethod);
        if (g.LastTileMethod is not null)
        {
            GroupTile(kw, k, g, g.LastTileVectors, g.LastTileMethod);
        }
    }

    private static void GroupTile(KernelWriter kw, DenseKernel k, DenseGroupKernel g, int tb, string method)
    {
        var w = kw.W;
        var x = k.X;
        int images = g.Images, v = kw.V, tbv = tb * v;
        long xImage = g.XImageStride, yImage = g.YImageStride;
        w.Line();
        w.Line($"/// <summary>{Count(tbv, "output")} of {Xml(k.LayerName)} for {Count(images, "image")} (image i at x + {I(xImage)} i, y + {I(yImage)} i).</summary>");
        using (kw.Method(method, "ref float x, ref float w, ref float b, ref float y"))
        {
            kw.ActConstants(k.Activation);
            kw.Biases(tb, j => kw.Load("b", Off(j * v)));
            kw.Accumulators(Enumerable.Range(0, images).Select(i => $"a{I(i)}_"), tb, j => $"bias{I(j)}");

            void Body(Func<int, string> xRef, string wRef)
            {
                for (int j = 0; j < tb; j++)
                {
                    w.Line($"var w{I(j)} = {kw.Load(wRef, Off(j * v))};");
                }

                for (int i = 0; i < images; i++)
                {
                    w.Line($"var x{I(i)} = Broadcast({xRef(i)});");
                    for (int j = 0; j < tb; j++)
                    {
                        w.Line($"a{I(i)}_{I(j)} = Fma(x{I(i)}, w{I(j)}, a{I(i)}_{I(j)});");
                    }
                }
            }

            if (!k.Hwc)
            {
                using (w.Block($"for (int k = 0; k < {I(k.Features)}; k++)"))
                {
                    w.Line($"ref float wk = ref At(ref w, k * {I(tbv)});");
                    Body(i => $"At(ref x, {(i == 0 ? "k" : $"k + {I(i * xImage)}")})", "wk");
                }
            }
            else
            {
                using (w.Block($"for (int ih = 0; ih < {I(x.H)}; ih++)"))
                using (w.Block($"for (int iw = 0; iw < {I(x.W)}; iw++)"))
                {
                    w.Line($"ref float xp = ref At(ref x, {I(x.Origin)} + (ih * {I(x.RowStride)}) + (iw * {I(x.Cp)}));");
                    w.Line($"ref float wp = ref At(ref w, ((ih * {I(x.W)}) + iw) * {I((long)x.C * tbv)});");
                    using (w.Block($"for (int c = 0; c < {I(x.C)}; c++)"))
                    {
                        w.Line($"ref float wk = ref At(ref wp, c * {I(tbv)});");
                        Body(i => $"At(ref xp, {(i == 0 ? "c" : $"c + {I(i * xImage)}")})", "wk");
                    }
                }
            }

            w.Line();
            for (int i = 0; i < images; i++)
            {
                for (int j = 0; j < tb; j++)
                {
                    w.Line(kw.Store(kw.Act(k.Activation, $"a{I(i)}_{I(j)}"), $"ref y, {I((i * yImage) + (j * v))}"));
                }
            }
        }
    }
}
