using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Kernels;

/// <summary>
/// Writes a Winograd F(2x2, 3x3) convolution (<see cref="WinogradKernel"/>): a driver looping over blocks of tile rows;
/// per block, the input transform of every tile (<c>WinogradInput</c>: B^T d B), then per weight tile the 16 GEMMs
/// (<c>WinogradGemm</c>: register tiles of transformed tiles x filter vectors, one broadcast per tile and channel) and
/// the output transform of every tile (<c>WinogradOutput</c>: A^T m A, bias, residual, activation, store).
/// B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]; A^T = [[1, 1, 1, 0], [0, 1, -1, -1]].
/// </summary>
internal static class WinogradEmitter
{
    private const int Positions = 16;

    public static void Emit(KernelWriter kw, WinogradKernel k)
    {
        var w = kw.W;
        var x = k.X;
        var y = k.Y;
        var win = k.Window;
        int rows = k.BlockRows, blocks = k.TileRows / rows, lastRows = k.TileRows % rows;
        long scratch = k.Scratch.C;
        kw.Doc(k.Title,
            $"Input: {x.Describe()}.",
            $"Output: {y.Describe()}.",
            $"Kernel 3x3, stride 1, padding {I(win.PadTop)}/{I(win.PadLeft)}/{I(win.PadBottom)}/{I(win.PadRight)} read from the input's zero border, computed with Winograd F(2x2, 3x3): each 2x2 output tile is A^T [U ⊙ (B^T d B)] A of its 4x4 input patch d, 16 multiply-adds per channel pair instead of 36.",
            $"Weights: U = G g G^T, transformed at load: [{Count(k.TileGroups, "tile")}][16 positions][{Count(k.Channels, "channel")}][{Count(k.TileFloats, "filter")}], bias [{I(y.Cp)}].",
            $"Tiles: {I(k.TileRows)} x {I(k.TileCols)} of 2x2 pixels" + (k.PartialRow || k.PartialCol ? $" (the last {(k.PartialRow && k.PartialCol ? "row and column" : k.PartialRow ? "row" : "column")} of tiles half used: the output is {I(y.H)}x{I(y.W)})" : string.Empty) + $", in blocks of {Count(rows, "tile row")} ({Kb(scratch)} of transformed tiles and GEMM results, to stay in L2).",
            $"GEMM register tile: {Count(k.TilePixels, "tile")} x {Count(k.TileVectors, "vector")} = {Count(k.TilePixels * k.TileVectors, "accumulator")}, over {Count(k.Channels, "input channel")}.",
            $"Cost model: {CountNumber(k.WinogradCycles, "cycle")} per image against {CountNumber(k.DirectCycles, "cycle")} for the direct kernel.");
        // Regular blocks of BlockRows tile rows, then a last block where it differs: fewer rows, or the partial tile row.
        int final = lastRows > 0 ? lastRows : k.PartialRow ? rows : 0;
        int regular = lastRows > 0 || !k.PartialRow ? blocks : blocks - 1;
        string residual = k.Residual is not null ? "ref float r, " : string.Empty;
        using (kw.Method(k.Method, $"ref float x, {residual}ref float s, ref float y, {kw.Buffer} weight, {kw.Buffer} bias{RangeParameters(k, "block")}"))
        {
            kw.ArrayRef("u", "weight");
            kw.ArrayRef("b", "bias");
            w.Line(regular == 0 ? "// One block of every tile row."
                : $"// {Count(regular, "block")} of {Count(rows, "tile row")} ({I(2 * rows)} output rows each)" + (final > 0 ? $", then the last block of {Count(final, "tile row")}{(k.PartialRow ? " (its last one half used)" : string.Empty)}." : "."));
            if (k.Split)
            {
                // Threads sharing the image each compute blocks [blockStart, blockEnd) of the regular and last blocks.
                if (regular > 0)
                {
                    using (w.Block($"for (int block = blockStart; block < {(final > 0 ? $"global::System.Math.Min(blockEnd, {I(regular)})" : "blockEnd")}; block++)"))
                    {
                        BlockCall(kw, k, BlockMethod(k, rows, last: false), "block", 0, rows);
                    }
                }

                if (final > 0)
                {
                    using (w.Block($"if (blockEnd > {I(regular)})"))
                    {
                        BlockCall(kw, k, BlockMethod(k, final, last: true), null, regular, rows);
                    }
                }
            }
            else
            {
                if (regular > 0)
                {
                    using (w.BlockIf(regular > 1, $"for (int block = 0; block < {I(regular)}; block++)"))
                    {
                        BlockCall(kw, k, BlockMethod(k, rows, last: false), regular > 1 ? "block" : null, 0, rows);
                    }
                }

                if (final > 0)
                {
                    BlockCall(kw, k, BlockMethod(k, final, last: true), null, regular, rows);
                }
            }
        }

        if (regular > 0)
        {
            Block(kw, k, rows, last: false);
        }

        if (final > 0)
        {
            Block(kw, k, final, last: true);
        }

        var gemms = new SortedSet<int>();
        foreach (int n in new[] { regular > 0 ? rows : 0, final }.Where(r => r > 0).Select(r => r * k.TileCols))
        {
            gemms.Add(System.Math.Min(k.TilePixels, n));
            if (n % k.TilePixels > 0)
            {
                gemms.Add(n % k.TilePixels);
            }
        }

        foreach (var (r, c) in Patches(k))
        {
            InputTile(kw, k, r, c);
        }

        foreach (int n in gemms.Reverse())
        {
            Gemm(kw, k, n);
        }

        foreach (var (r, c) in Patches(k))
        {
            OutputTile(kw, k, r == 4 ? 2 : 1, c == 4 ? 2 : 1);
        }
    }

    private static string Kb(long floats) => ForwardEmitter.Kb(floats);

    /// <summary>The input patches read (rows x columns: 4, or 3 where the last tile's second output row or column is past the edge).</summary>
    private static IEnumerable<(int Rows, int Cols)> Patches(WinogradKernel k)
    {
        yield return (4, 4);
        if (k.PartialCol)
        {
            yield return (4, 3);
        }

        if (k.PartialRow)
        {
            yield return (3, 4);
            if (k.PartialCol)
            {
                yield return (3, 3);
            }
        }
    }

    private static string BlockMethod(WinogradKernel k, int rows, bool last) => $"{k.Method}Winograd{(last ? "LastBlock" : "Block")}{I(rows)}";

    /// <summary>An offset <c>variable * step</c>, or <c>literal * step</c> written out when there is no variable.</summary>
    private static string Pos(string? variable, int literal, long step, long constant = 0) =>
        variable is null ? I((literal * step) + constant) : Lin(variable, step, constant);

    /// <summary>Calls a block's method with its input, residual and output rows: block <paramref name="index"/> (a variable) or <paramref name="literal"/>.</summary>
    private static void BlockCall(KernelWriter kw, WinogradKernel k, string method, string? index, int literal, int rows)
    {
        string At(string reference, long rowStep, long origin) => Ref(reference, Pos(index, literal, 2L * rows * rowStep, origin));
        string r = k.Residual is { } res ? At("r", res.RowStride, res.Origin) + ", " : string.Empty;
        kw.W.Line($"{method}({At("x", k.X.RowStride, k.XOrigin)}, {r}ref s, {At("y", k.Y.RowStride, k.Y.Origin)}, ref u, ref b);");
    }

    /// <summary>One block of <paramref name="rows"/> tile rows: transform its input tiles, then per weight tile 16 GEMMs and the output transform.</summary>
    private static void Block(KernelWriter kw, WinogradKernel k, int rows, bool last)
    {
        bool partialRow = last && k.PartialRow;
        var w = kw.W;
        var x = k.X;
        var y = k.Y;
        int tc = k.TileCols, fullCols = k.PartialCol ? tc - 1 : tc, tiles = rows * tc;
        int xcp = x.Cp, tbv = k.TileFloats, tp = k.TilePixels;
        long vTile = xcp, mTile = (long)Positions * tbv;
        string residual = k.Residual is not null ? "ref float r, " : string.Empty;
        w.Line();
        w.Line($"/// <summary>{Count(rows, "tile row")} of {Xml(k.LayerName)} ({I(2 * rows)} output rows from the first): transform, multiply, transform back.</summary>");
        using (kw.Method(BlockMethod(k, rows, last), $"ref float x, {residual}ref float s, ref float y, ref float u, ref float b"))
        {
            w.Line($"ref float v = ref s; // B^T d B of each tile: [16 positions, {I(k.PositionPitch)} floats apart][{Count(k.BlockRows * tc, "tile")}][{Count(xcp, "float")}]");
            w.Line($"ref float m = ref At(ref s, {I(k.ResultsOffset)}); // the GEMMs' results: [{Count(tiles, "tile")}][16 positions][{Count(tbv, "filter")}]");
            w.Line();
            w.Line("// Input transform: the 4x4 patch under each tile (tiles 2 pixels apart), every channel vector.");
            TileRows(kw, rows, partialRow, (tr, row, half) =>
            {
                w.Line($"ref float xr = {Ref("x", Pos(tr, row, 2L * x.RowStride))};");
                w.Line($"ref float vr = {Ref("v", Pos(tr, row, tc * vTile))};");
                string patch = half ? "3x" : "4x";
                TileCols(kw, fullCols, k.PartialCol, (col, n, lastCol) =>
                    $"{k.Method}WinogradInput{patch}{(lastCol ? "3" : "4")}({Ref("xr", Pos(col, n, 2L * xcp))}, {Ref("vr", Pos(col, n, vTile))});");
            });

            w.Line();
            using (w.BlockIf(k.TileGroups > 1, $"for (int t = 0; t < {I(k.TileGroups)}; t++)"))
            {
                if (k.TileGroups > 1)
                {
                    w.Line($"// Filters t * {I(tbv)} to t * {I(tbv)} + {I(tbv - 1)}.");
                    w.Line($"ref float ut = ref At(ref u, t * {I((long)Positions * k.Channels * tbv)});");
                    w.Line($"ref float bt = ref At(ref b, t * {I(tbv)});");
                    w.Line($"ref float yt = ref At(ref y, t * {I(tbv)});");
                    if (k.Residual is not null)
                    {
                        w.Line($"ref float rt = ref At(ref r, t * {I(tbv)});");
                    }
                }
                else
                {
                    w.Line("ref float ut = ref u;");
                    w.Line("ref float bt = ref b;");
                    w.Line("ref float yt = ref y;");
                    if (k.Residual is not null)
                    {
                        w.Line("ref float rt = ref r;");
                    }
                }

                using (w.Block("for (int e = 0; e < 16; e++)"))
                {
                    w.Line("// Position e of every transformed tile: one GEMM over the input channels, tiles x filters.");
                    w.Line($"ref float ue = ref At(ref ut, e * {I((long)k.Channels * tbv)});");
                    w.Line($"ref float ve = ref At(ref v, e * {I(k.PositionPitch)});");
                    w.Line($"ref float me = ref At(ref m, e * {I(tbv)});");
                    int groups = tiles / tp, rest = tiles % tp;
                    if (groups == 1)
                    {
                        w.Line($"{k.Method}WinogradGemm{I(tp)}(ref ve, ref ue, ref me);");
                    }
                    else if (groups > 1)
                    {
                        using (w.Block($"for (int g = 0; g < {I(groups)}; g++)"))
                        {
                            w.Line($"{k.Method}WinogradGemm{I(tp)}(ref At(ref ve, g * {I(tp * vTile)}), ref ue, ref At(ref me, g * {I(tp * mTile)}));");
                        }
                    }

                    if (rest > 0)
                    {
                        w.Line($"{k.Method}WinogradGemm{I(rest)}({Ref("ve", I(groups * tp * vTile))}, ref ue, {Ref("me", I(groups * tp * mTile))});");
                    }
                }

                w.Line();
                w.Line("// Output transform of each tile, with the bias" + (k.Residual is not null ? ", the residual" : string.Empty) + (k.Activation.Kind != Model.Activation.None ? " and the activation" : string.Empty) + ".");
                TileRows(kw, rows, partialRow, (tr, row, half) =>
                {
                    w.Line($"ref float mr = {Ref("m", Pos(tr, row, tc * mTile))};");
                    w.Line($"ref float yr = {Ref("yt", Pos(tr, row, 2L * y.RowStride))};");
                    if (k.Residual is { } res)
                    {
                        w.Line($"ref float rr = {Ref("rt", Pos(tr, row, 2L * res.RowStride))};");
                    }

                    string patch = half ? "1x" : "2x";
                    TileCols(kw, fullCols, k.PartialCol, (col, n, lastCol) =>
                        $"{k.Method}WinogradOutput{patch}{(lastCol ? "1" : "2")}({Ref("mr", Pos(col, n, mTile))}, ref bt, " +
                        (k.Residual is { } res2 ? Ref("rr", Pos(col, n, 2L * res2.PixelStride)) + ", " : string.Empty) +
                        $"{Ref("yr", Pos(col, n, 2L * y.PixelStride))});");
                });
            }
        }
    }

    /// <summary>
    /// The block's tile rows: a loop over the full-height ones (or the one, written out), then the last, half used, when
    /// <paramref name="partialRow"/> (3 input rows, 1 output row). <paramref name="body"/> gets the row's loop variable (or
    /// null), its literal index when there is no variable, and whether it is half used.
    /// </summary>
    private static void TileRows(KernelWriter kw, int rows, bool partialRow, System.Action<string?, int, bool> body)
    {
        int full = partialRow ? rows - 1 : rows;
        if (full > 0)
        {
            using (full > 1 ? kw.W.Block($"for (int tr = 0; tr < {I(full)}; tr++)") : kw.W.Block())
            {
                body(full > 1 ? "tr" : null, 0, false);
            }
        }

        if (partialRow)
        {
            kw.W.Line("// The last tile row: its second output row is past the edge.");
            using (kw.W.Block())
            {
                body(null, full, true);
            }
        }
    }

    /// <summary>A tile row's tiles: a loop over the full ones (or the one), then the last, half used, when <paramref name="partialCol"/>.</summary>
    private static void TileCols(KernelWriter kw, int fullCols, bool partialCol, System.Func<string?, int, bool, string> call)
    {
        if (fullCols == 1)
        {
            kw.W.Line(call(null, 0, false));
        }
        else if (fullCols > 1)
        {
            using (kw.W.Block($"for (int tc = 0; tc < {I(fullCols)}; tc++)"))
            {
                kw.W.Line(call("tc", 0, false));
            }
        }

        if (partialCol)
        {
            kw.W.Line(call(null, fullCols, true));
        }
    }

    /// <summary>
    /// B^T d B of one patch for every channel vector: row i of B^T d combines input rows (0 - 2, 1 + 2, 2 - 1, 1 - 3), and
    /// position (i, j) combines that row's columns the same way. A patch of 3 rows (columns) treats the 4th as zero: it
    /// only feeds the tile's second output row (column), which is past the edge.
    /// </summary>
    private static void InputTile(KernelWriter kw, WinogradKernel k, int rows, int cols)
    {
        var w = kw.W;
        var x = k.X;
        int v = kw.V, xcp = x.Cp;
        w.Line();
        w.Line($"/// <summary>Input transform B^T d B of {Xml(k.LayerName)}: one {I(rows)}x{I(cols)} input patch{(rows < 4 || cols < 4 ? " (the rest of the 4x4 patch is past the edge: zero)" : string.Empty)} into its 16 positions, every channel vector.</summary>");
        using (kw.Method($"{k.Method}WinogradInput{I(rows)}x{I(cols)}", "ref float x, ref float v"))
        {
            using (w.Block($"for (int c = 0; c < {I(xcp)}; c += {I(v)})"))
            {
                w.Line("ref float xc = ref At(ref x, c);");
                w.Line("ref float vc = ref At(ref v, c);");
                string[] rowNames = { "d0 - d2", "d1 + d2", "d2 - d1", "d1 - d3" };
                for (int i = 0; i < 4; i++)
                {
                    w.Line($"// Row {I(i)} of B^T d ({(rows < 4 && i == 3 ? "d1; d3 is zero" : rowNames[i])}), then its columns.");
                    using (w.Block())
                    {
                        for (int j = 0; j < cols; j++)
                        {
                            w.Line($"var t{I(j)} = {Combine(kw, i, rows, r => (long)r * x.RowStride + ((long)j * xcp))};");
                        }

                        var t = Enumerable.Range(0, 4).Select(j => j < cols ? "t" + I(j) : null).ToArray();
                        string[] positions = { $"{t[0]} - {t[2]}", $"{t[1]} + {t[2]}", $"{t[2]} - {t[1]}", t[3] is null ? t[1]! : $"{t[1]} - {t[3]}" };
                        for (int j = 0; j < 4; j++)
                        {
                            w.Line(kw.Store(positions[j], $"ref vc, {I(((4 * i) + j) * k.PositionPitch)}"));
                        }
                    }
                }
            }
        }
    }

    /// <summary>Row <paramref name="i"/> of B^T d for one column: loads of the patch's rows (row 3 zero when only 3 are read).</summary>
    private static string Combine(KernelWriter kw, int i, int rows, System.Func<int, long> offset)
    {
        string D(int r) => kw.Load("xc", Off(offset(r)));
        return i switch
        {
            0 => $"{D(0)} - {D(2)}",
            1 => $"{D(1)} + {D(2)}",
            2 => $"{D(2)} - {D(1)}",
            _ => rows < 4 ? D(1) : $"{D(1)} - {D(3)}",
        };
    }

    /// <summary>
    /// One position's GEMM for <paramref name="n"/> tiles and one weight tile: per input channel, load the filter vectors,
    /// broadcast each tile's transformed value, FMA; then store the tiles' results.
    /// </summary>
    private static void Gemm(KernelWriter kw, WinogradKernel k, int n)
    {
        var w = kw.W;
        int v = kw.V, tb = k.TileVectors, tbv = k.TileFloats;
        long vTile = k.X.Cp, mTile = (long)Positions * tbv;
        w.Line();
        w.Line($"/// <summary>GEMM of {Xml(k.LayerName)} at one position: {Count(n, "tile")} x {Count(tb, "vector")} of filters, m[tile][f] = sum over the {Count(k.Channels, "input channel")} of v[tile][c] u[c][f].</summary>");
        using (kw.Method($"{k.Method}WinogradGemm{I(n)}", "ref float v, ref float u, ref float m"))
        {
            kw.Accumulators(Enumerable.Range(0, n).Select(p => $"a{I(p)}_"), tb, _ => "Zero");
            w.Line("ref float vi = ref v;");
            w.Line("ref float ui = ref u;");
            using (w.Block($"for (int c = 0; c < {I(k.Channels)}; c++)"))
            {
                for (int j = 0; j < tb; j++)
                {
                    w.Line($"var w{I(j)} = {kw.Load("ui", Off(j * v))};");
                }

                for (int p = 0; p < n; p++)
                {
                    w.Line($"var x{I(p)} = Broadcast({(p == 0 ? "vi" : $"At(ref vi, {I(p * vTile)})")});");
                    for (int j = 0; j < tb; j++)
                    {
                        w.Line($"a{I(p)}_{I(j)} = Fma(x{I(p)}, w{I(j)}, a{I(p)}_{I(j)});");
                    }
                }

                w.Line("vi = ref At(ref vi, 1); // the next input channel");
                w.Line($"ui = ref At(ref ui, {I(tbv)});");
            }

            for (int p = 0; p < n; p++)
            {
                w.Line(string.Join(" ", Enumerable.Range(0, tb).Select(j => kw.Store($"a{I(p)}_{I(j)}", (p * mTile) + (j * v) == 0 ? "ref m" : $"ref m, {I((p * mTile) + (j * v))}"))));
            }
        }
    }

    /// <summary>
    /// A^T m A of one tile's 16 results for each filter vector: s0 = m0 + m1 + m2 and s1 = m1 - m2 - m3 over the rows of m,
    /// then the same over each s's columns; plus the bias, the residual, the activation; <paramref name="rows"/> x
    /// <paramref name="cols"/> output pixels (1 at the bottom or right edge of an odd-sized output).
    /// </summary>
    private static void OutputTile(KernelWriter kw, WinogradKernel k, int rows, int cols)
    {
        var w = kw.W;
        var y = k.Y;
        int v = kw.V, tbv = k.TileFloats;
        bool res = k.Residual is not null;
        w.Line();
        w.Line($"/// <summary>Output transform A^T m A of {Xml(k.LayerName)}: one tile's {I(rows)}x{I(cols)} output pixels, {Count(k.TileVectors, "vector")} of filters.</summary>");
        using (kw.Method($"{k.Method}WinogradOutput{I(rows)}x{I(cols)}", $"ref float m, ref float b, {(res ? "ref float r, " : string.Empty)}ref float y"))
        {
            kw.ActConstants(k.Activation);
            for (int j = 0; j < k.TileVectors; j++)
            {
                w.Line($"// Filter vector {I(j)}: rows of A^T m (s0 = m0 + m1 + m2, s1 = m1 - m2 - m3), then their columns.");
                using (w.Block())
                {
                    string M(int e) => kw.Load("m", Off((e * tbv) + (j * v)));
                    w.Line($"var bias = {kw.Load("b", Off(j * v))};");
                    int needed = cols == 2 ? 4 : 3;
                    for (int c = 0; c < needed; c++)
                    {
                        w.Line($"var s0{I(c)} = {M(c)} + {M(4 + c)} + {M(8 + c)};");
                        if (rows == 2)
                        {
                            w.Line($"var s1{I(c)} = {M(4 + c)} - {M(8 + c)} - {M(12 + c)};");
                        }
                    }

                    if (k.Residual is not null && j == 0)
                    {
                        w.Line($"// {Xml(k.ResidualLayer!)}: add the residual '{k.Residual.Name}' before the activation");
                    }

                    for (int i = 0; i < rows; i++)
                    {
                        for (int c = 0; c < cols; c++)
                        {
                            string value = c == 0 ? $"s{I(i)}0 + s{I(i)}1 + s{I(i)}2 + bias" : $"s{I(i)}1 - s{I(i)}2 - s{I(i)}3 + bias";
                            long yOff = ((long)i * y.RowStride) + ((long)c * y.PixelStride) + (j * v);
                            if (k.Residual is { } r)
                            {
                                long rOff = ((long)i * r.RowStride) + ((long)c * r.PixelStride) + (j * v);
                                value += " + " + kw.Load("r", Off(rOff));
                            }

                            // An activation may repeat its operand (LeakyReLU's max(v, v * alpha)): parenthesize the sum for it.
                            string activated = k.Activation.Kind == Model.Activation.None ? value : kw.Act(k.Activation, $"({value})");
                            w.Line(kw.Store(activated, yOff == 0 ? "ref y" : $"ref y, {I(yOff)}"));
                        }
                    }
                }
            }
        }
    }
}
