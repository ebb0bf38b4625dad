using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Backward;

/// <summary>
/// Writes a dense layer's training kernels, each over a thread's images at once (small GEMMs held in registers): the
/// forward (<see cref="DenseTrainingKernel"/>), the weight and bias gradients (<see cref="DenseWeightsKernel"/>) and the
/// input gradient (<see cref="DenseDataKernel"/>).
/// </summary>
internal static class DenseTrainingEmitter
{
    private static string Tile(string method, int rows, int vectors) => $"{method}Tile{I(rows)}x{I(vectors)}";

    public static void Emit(KernelWriter kw, DenseTrainingKernel k)
    {
        var w = kw.W;
        int v = kw.V, cp = k.Y.Cp;
        kw.Doc(k.Title,
            $"Input: {k.X.Describe()}" + (k.Hwc ? ", read in H, W, C order (the weights' rows follow it)." : "."),
            $"Output: {k.Y.Describe()}.",
            k.BlockFloats > 0
                ? $"Weights: in unit blocks, [{Count(cp / v, "output vector")}][{Count(k.Features, "feature")}][{I(v)}], {I(k.BlockFloats)} floats a block (a thread's output vectors are one contiguous run); image i's input at x + {I(k.XImageStride)} i, output at y + {I(k.YImageStride)} i."
                : $"Weights: [{Count(k.Features, "feature")}][{Count(cp, "output")}]; image i's input at x + {I(k.XImageStride)} i, output at y + {I(k.YImageStride)} i.",
            $"Register tile: {Count(k.Images, "image")} x {Count(k.Vectors, "vector")}: per feature, {Count(k.Vectors, "weight load")} feed {Count(k.Images * k.Vectors, "FMA")}; the images past the last full group run one at a time.",
            k.Columns ? $"Split by columns: the output vectors [vectorStart, vectorEnd) of every image of the batch (a thread's share), in tiles of {Count(k.Vectors, "vector")} and one narrower last tile." : string.Empty);
        using (kw.Method(k.Method, $"ref float x, ref float y, int count, {kw.Buffer} weight, {kw.Buffer} bias" + (k.Columns ? ", int vectorStart, int vectorEnd" : string.Empty)))
        {
            kw.ArrayRef("w", "weight");
            kw.ArrayRef("b", "bias");
            w.Line("int i = 0;");
            foreach (int images in k.Images > 1 ? new[] { k.Images, 1 } : new[] { 1 })
            {
                using (w.Block(images > 1 ? $"for (; i + {I(images)} <= count; i += {I(images)})" : "for (; i < count; i++)"))
                {
                    w.Line($"ref float xi = ref At(ref x, i * {I(k.XImageStride)});");
                    w.Line($"ref float yi = ref At(ref y, i * {I(k.YImageStride)});");
                    Tiles(kw, k.Columns, k.FullTiles, k.Vectors, k.LastVectors, (vectors, offset) =>
                        $"{Tile(k.Method, images, vectors)}(ref xi, {Ref("w", WeightOffset(k.BlockFloats, offset))}, {Ref("b", offset)}, {Ref("yi", offset)});");
                }
            }
        }

        foreach (var (rows, vectors) in Shapes(k.Images, k.Vectors, k.LastVectors, k.Columns))
        {
            ForwardTile(kw, k, rows, vectors);
        }
    }

    /// <summary>A tile's first weight: the output offset itself in one tile, the first vector's block in unit blocks (the offset is <c>vector * V</c> there).</summary>
    private static string WeightOffset(long blockFloats, string offset) =>
        blockFloats > 0 ? $"vector * {I(blockFloats)}" : offset;

    /// <summary>Floats between a feature's weights and the next's, and between a tile's output vectors: in one tile the padded units and a vector; in unit blocks a vector and a block.</summary>
    private static (long Row, long Vector) WeightStrides(long blockFloats, int paddedUnits, int v) =>
        blockFloats > 0 ? (v, blockFloats) : (paddedUnits, v);

    /// <summary>The tile shapes a kernel calls: full and last output tiles (split by columns, every narrower one), for a group of rows and for one.</summary>
    private static IEnumerable<(int Rows, int Vectors)> Shapes(int rows, int vectors, int lastVectors, bool columns = false)
    {
        foreach (int r in rows > 1 ? new[] { rows, 1 } : new[] { 1 })
        {
            yield return (r, vectors);
            for (int last = vectors - 1; last > 0; last--)
            {
                if (columns || last == lastVectors)
                {
                    yield return (r, last);
                }
            }
        }
    }

    /// <summary>
    /// Calls over the output vectors: all of them (<see cref="OutputTiles"/>), or, split by columns, the range
    /// [vectorStart, vectorEnd) in full tiles and one narrower last tile.
    /// </summary>
    private static void Tiles(KernelWriter kw, bool columns, int full, int vectors, int last, System.Func<int, string, string> call)
    {
        if (!columns)
        {
            OutputTiles(kw, full, vectors, last, call);
            return;
        }

        var w = kw.W;
        string offset = $"vector * {I(kw.V)}";
        using (w.Block($"for (int vector = vectorStart; vector < vectorEnd; vector += {I(vectors)})"))
        {
            if (vectors == 1)
            {
                w.Line(call(1, offset));
                return;
            }

            using (w.Block("switch (vectorEnd - vector)"))
            {
                for (int left = 1; left < vectors; left++)
                {
                    w.Line($"case {I(left)}: {call(left, offset)} break;");
                }

                w.Line($"default: {call(vectors, offset)} break;");
            }
        }
    }

    /// <summary>Calls over the output vectors: full tiles in a loop, then the last tile; <paramref name="call"/> gets the tile's vectors and its float offset.</summary>
    private static void OutputTiles(KernelWriter kw, int full, int vectors, int last, System.Func<int, string, string> call)
    {
        var w = kw.W;
        int v = kw.V;
        if (full == 1)
        {
            w.Line(call(vectors, "0"));
        }
        else if (full > 1)
        {
            using (w.Block($"for (int t = 0; t < {I(full)}; t++)"))
            {
                w.Line(call(vectors, $"t * {I(vectors * v)}"));
            }
        }

        if (last > 0)
        {
            w.Line(call(last, I(full * vectors * v)));
        }
    }

    /// <summary>Every feature of the input: the body gets the feature's offset in x (relative to the image) and its weight row index expression.</summary>
    private static void Features(KernelWriter kw, TensorPlan x, bool hwc, long features, System.Action<string, string> body)
    {
        var w = kw.W;
        if (!hwc)
        {
            using (w.Block($"for (int k = 0; k < {I(features)}; k++)"))
            {
                body("k", "k");
            }

            return;
        }

        using (w.Block($"for (int h = 0; h < {I(x.H)}; h++)"))
        using (w.Block($"for (int p = 0; p < {I(x.W)}; p++)"))
        {
            w.Line($"int pixel = {Lin("h", x.RowStride, x.Origin)} + (p * {I(x.Cp)});");
            using (w.Block($"for (int c = 0; c < {I(x.C)}; c++)"))
            {
                w.Line($"int k = (((h * {I(x.W)}) + p) * {I(x.C)}) + c;");
                body("pixel + c", "k");
            }
        }
    }

    private static void ForwardTile(KernelWriter kw, DenseTrainingKernel k, int rows, int vectors)
    {
        var w = kw.W;
        int v = kw.V, cp = k.Y.Cp;
        w.Line();
        w.Line($"/// <summary>{Count(vectors * v, "output")} of {Xml(k.LayerName)} for {Count(rows, "image")}.</summary>");
        using (kw.Method(Tile(k.Method, rows, vectors), "ref float x, ref float w, ref float b, ref float y"))
        {
            kw.ActConstants(k.Activation);
            kw.Biases(vectors, j => kw.Load("b", Off(j * v)));
            kw.Accumulators(Enumerable.Range(0, rows).Select(r => $"a{I(r)}_"), vectors, j => $"bias{I(j)}");
            var (rowStride, vectorStride) = WeightStrides(k.BlockFloats, cp, v);
            Features(kw, k.X, k.Hwc, k.Features, (xOffset, row) =>
            {
                w.Line($"ref float wk = ref At(ref w, {row} * {I(rowStride)});");
                for (int j = 0; j < vectors; j++)
                {
                    w.Line($"var w{I(j)} = {kw.Load("wk", Off(j * vectorStride))};");
                }

                for (int r = 0; r < rows; r++)
                {
                    string at = r == 0 ? xOffset : $"{xOffset} + {I(r * k.XImageStride)}";
                    w.Line($"var x{I(r)} = Broadcast(At(ref x, {at}));");
                    for (int j = 0; j < vectors; j++)
                    {
                        w.Line($"a{I(r)}_{I(j)} = Fma(x{I(r)}, w{I(j)}, a{I(r)}_{I(j)});");
                    }
                }
            });

            w.Line();
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < vectors; j++)
                {
                    w.Line(kw.Store(kw.Act(k.Activation, $"a{I(r)}_{I(j)}"), $"ref y, {I((r * k.YImageStride) + (j * v))}"));
                }
            }
        }
    }

    public static void Emit(KernelWriter kw, DenseWeightsKernel k)
    {
        var w = kw.W;
        int v = kw.V, cp = k.OutputGradient.Cp;
        var x = k.X;
        int channels = k.Hwc ? x.C : (int)(x.C * (x.Layout == Layout.Flat ? 1 : x.H * x.W));
        int fb = k.FeatureBlock, lastBlock = channels % fb;
        kw.Doc(k.Title,
            $"Input: {x.Describe()}; dy: {k.OutputGradient.Describe()}; image i's at x + {I(k.XImageStride)} i, dy + {I(k.YImageStride)} i.",
            (k.BlockFloats > 0
                ? $"Gradients: weight in unit blocks [{Count(cp / v, "output vector")}][{Count(channels * (k.Hwc ? x.H * x.W : 1), "feature")}][{I(v)}] (the weights' packed layout: a thread's output vectors are one contiguous run)"
                : $"Gradients: weight [{Count(channels * (k.Hwc ? x.H * x.W : 1), "feature")}][{Count(cp, "output")}] (the weights' packed layout)") + (k.Bias ? $", bias [{I(cp)}]." : "."),
            $"Register tile: {Count(fb, "feature")} x {Count(k.Vectors, "vector")}, reduced over the images in registers, then " + (k.Overwrite ? "stored (the only writer: the gradients are not cleared before)." : "added once."),
            k.Columns ? "Split by columns: the output vectors [vectorStart, vectorEnd) over every image of the batch (a thread's share of the one gradient buffer)." : string.Empty);
        string bias = k.Bias ? $", {kw.Buffer} biasGradient" : string.Empty;
        using (kw.Method(k.Method, $"ref float x, ref float dy, int count, {kw.Buffer} weightGradient{bias}" + (k.Columns ? ", int vectorStart, int vectorEnd" : string.Empty)))
        {
            kw.ArrayRef("gw", "weightGradient");
            if (k.Bias)
            {
                kw.ArrayRef("gb", "biasGradient");
                w.Line("// d bias: the sum of dy over the images");
                using (w.Block(k.Columns ? $"for (int j = vectorStart * {I(v)}; j < vectorEnd * {I(v)}; j += {I(v)})" : $"for (int j = 0; j < {I(cp)}; j += {I(v)})"))
                {
                    w.Line($"var sum = Zero;");
                    using (w.Block("for (int i = 0; i < count; i++)"))
                    {
                        w.Line($"sum += Load(ref dy, (nuint)((i * {I(k.YImageStride)}) + j));");
                    }

                    w.Line(kw.Store(k.Overwrite ? "sum" : "Load(ref gb, (nuint)j) + sum", "ref gb, (nuint)j"));
                }

                w.Line();
            }

            w.Line("// d weight: every block of features against every tile of outputs");
            void Blocks(string xBase, string rowBase)
            {
                void Calls(int block, string c0)
                {
                    string xAt = c0 == "0" ? xBase : $"{xBase} + {c0}";
                    string rowAt = c0 == "0" ? rowBase : $"({rowBase} + {c0})";
                    Tiles(kw, k.Columns, k.FullTiles, k.Vectors, k.LastVectors, (vectors, offset) =>
                        $"{Tile(k.Method, block, vectors)}(ref At(ref x, {xAt}), {Ref("dy", offset)}, ref At(ref gw, {GradientAt(k, rowAt, offset, cp, v)}), count);");
                }

                if (channels / fb > 0)
                {
                    using (w.Block($"for (int c0 = 0; c0 + {I(fb)} <= {I(channels)}; c0 += {I(fb)})"))
                    {
                        Calls(fb, "c0");
                    }
                }

                if (lastBlock > 0)
                {
                    Calls(lastBlock, I(channels - lastBlock));
                }
            }

            if (k.Hwc)
            {
                using (w.Block($"for (int h = 0; h < {I(x.H)}; h++)"))
                using (w.Block($"for (int p = 0; p < {I(x.W)}; p++)"))
                {
                    w.Line($"int pixel = {Lin("h", x.RowStride, x.Origin)} + (p * {I(x.Cp)});");
                    w.Line($"int row = ((h * {I(x.W)}) + p) * {I(x.C)};");
                    Blocks("pixel", "row");
                }
            }
            else
            {
                Blocks("0", "0");
            }
        }

        var shapes = new List<(int, int)>();
        foreach (int block in lastBlock > 0 && channels >= fb ? new[] { fb, lastBlock } : new[] { channels >= fb ? fb : lastBlock })
        {
            shapes.Add((block, k.Vectors));
            for (int last = k.Vectors - 1; last > 0; last--)
            {
                if (k.Columns || last == k.LastVectors)
                {
                    shapes.Add((block, last));
                }
            }
        }

        foreach (var (block, vectors) in shapes)
        {
            WeightsTile(kw, k, block, vectors);
        }
    }

    /// <summary>A weight-gradient tile's first element: row <paramref name="rowAt"/> at the output offset in one tile; in unit blocks, the row in the first vector's block.</summary>
    private static string GradientAt(DenseWeightsKernel k, string rowAt, string offset, int cp, int v) =>
        k.BlockFloats > 0 ? $"(vector * {I(k.BlockFloats)}) + ({rowAt} * {I(v)})"
            : $"({rowAt} * {I(cp)}){(offset == "0" ? string.Empty : " + " + offset)}";

    private static void WeightsTile(KernelWriter kw, DenseWeightsKernel k, int features, int vectors)
    {
        var w = kw.W;
        int v = kw.V, cp = k.OutputGradient.Cp;
        w.Line();
        w.Line($"/// <summary>d weight of {Xml(k.LayerName)} for {Count(features, "feature")} x {Count(vectors * v, "output")}, summed over the images.</summary>");
        var (rowStride, vectorStride) = WeightStrides(k.BlockFloats, cp, v);
        using (kw.Method(Tile(k.Method, features, vectors), "ref float x, ref float dy, ref float gw, int count"))
        {
            kw.GradientTile(features, vectors, body =>
            {
                using (w.Block("for (int i = 0; i < count; i++)"))
                {
                    w.Line($"ref float xi = {Ref("x", $"i * {I(k.XImageStride)}")};");
                    w.Line($"ref float dyi = {Ref("dy", $"i * {I(k.YImageStride)}")};");
                    body();
                }
            }, "dyi", f => Element("xi", f), "gw", (f, j) => (f * rowStride) + (j * vectorStride), k.Overwrite);
        }
    }

    public static void Emit(KernelWriter kw, DenseDataKernel k)
    {
        var w = kw.W;
        int v = kw.V;
        var dx = k.InputGradient;
        bool rows = dx.Layout == Layout.Hwc;
        int rowFloats = rows ? dx.W * dx.Cp : dx.Cp;
        int rowVectors = rowFloats / v, full = rowVectors / k.Vectors, last = rowVectors % k.Vectors;
        kw.Doc(k.Title,
            $"dy: {k.OutputGradient.Describe()}; dx: {dx.Describe()}; image i's at dy + {I(k.YImageStride)} i, dx + {I(k.XImageStride)} i.",
            $"Transposed weights: [{Count(k.Units, "unit")}][{Count(k.GradientFloats, "float")}], rows in dx's order; padded lanes are zero.",
            $"Register tile: {Count(k.Images, "image")} x {Count(k.Vectors, "vector")}: per unit, {Count(k.Vectors, "weight load")} feed {Count(k.Images * k.Vectors, "FMA")}.");
        using (kw.Method(k.Method, $"ref float dy, ref float dx, int count, {kw.Buffer} transposed"))
        {
            kw.ArrayRef("wt", "transposed");
            w.Line("int i = 0;");
            foreach (int images in k.Images > 1 ? new[] { k.Images, 1 } : new[] { 1 })
            {
                using (w.Block(images > 1 ? $"for (; i + {I(images)} <= count; i += {I(images)})" : "for (; i < count; i++)"))
                {
                    w.Line($"ref float dyi = ref At(ref dy, i * {I(k.YImageStride)});");
                    using (w.BlockIf(rows, $"for (int h = 0; h < {I(dx.H)}; h++)"))
                    {
                        w.Line(rows
                            ? $"ref float dxr = ref At(ref dx, (i * {I(k.XImageStride)}) + {Lin("h", dx.RowStride, dx.Origin)});"
                            : $"ref float dxr = ref At(ref dx, i * {I(k.XImageStride)});");
                        w.Line(rows ? $"ref float wtr = ref At(ref wt, h * {I(rowFloats)});" : "ref float wtr = ref wt;");
                        OutputTiles(kw, full, k.Vectors, last, (vectors, offset) =>
                            $"{Tile(k.Method, images, vectors)}(ref dyi, {Ref("dxr", offset)}, {Ref("wtr", offset)});");
                    }
                }
            }
        }

        foreach (var (images, vectors) in Shapes(k.Images, k.Vectors, last))
        {
            DataTile(kw, k, images, vectors);
        }
    }

    private static void DataTile(KernelWriter kw, DenseDataKernel k, int images, int vectors)
    {
        var w = kw.W;
        int v = kw.V;
        w.Line();
        w.Line($"/// <summary>{Count(vectors * v, "float")} of d input of {Xml(k.LayerName)} for {Count(images, "image")}.</summary>");
        using (kw.Method(Tile(k.Method, images, vectors), "ref float dy, ref float dx, ref float wt"))
        {
            kw.Accumulators(Enumerable.Range(0, images).Select(r => $"a{I(r)}_"), vectors, _ => $"Zero");
            using (w.Block($"for (int o = 0; o < {I(k.Units)}; o++)"))
            {
                w.Line($"ref float wo = ref At(ref wt, o * {I(k.GradientFloats)});");
                for (int j = 0; j < vectors; j++)
                {
                    w.Line($"var w{I(j)} = {kw.Load("wo", Off(j * v))};");
                }

                for (int r = 0; r < images; r++)
                {
                    w.Line($"var d{I(r)} = Broadcast(At(ref dy, {(r == 0 ? "o" : $"o + {I(r * k.YImageStride)}")}));");
                    for (int j = 0; j < vectors; j++)
                    {
                        w.Line($"a{I(r)}_{I(j)} = Fma(d{I(r)}, w{I(j)}, a{I(r)}_{I(j)});");
                    }
                }
            }

            w.Line();
            for (int r = 0; r < images; r++)
            {
                for (int j = 0; j < vectors; j++)
                {
                    long at = (r * k.XImageStride) + (j * v);
                    string value = k.Accumulate ? $"{kw.Load("dx", Off(at))} + a{I(r)}_{I(j)}" : $"a{I(r)}_{I(j)}";
                    w.Line(kw.Store(value, $"ref dx, {I(at)}"));
                }
            }
        }
    }
}
