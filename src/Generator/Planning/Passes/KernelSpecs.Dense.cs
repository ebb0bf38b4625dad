using System;
using System.Collections.Generic;
using System.Globalization;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>The dense family's spec: tiles, packed weight streams and the batch-group kernel.</summary>
internal sealed partial class KernelSpecs
{
    /// <summary>Output vectors per weight tile as packed at load: the group tile when batches are grouped, else the tile.</summary>
    private int DensePackVectors(PlanStep s) => _batchGroup > 1 ? s.GroupTileB : s.TileB;

    private DenseKernel Dense(PlanStep s, KernelNames n)
    {
        var l = Layer(s);
        var x = X(s, n);
        var y = Y(s, n);
        int v = _m.Width, tb = s.TileB, nb = y.Cp / v;
        int full = nb / tb, rest = nb % tb;
        int pv = DensePackVectors(s);
        long k = l.In.Size;
        string method = n.Method;
        var tiles = new List<DenseTile> { Tile(method, tb, 0, pv, nb, k) };
        if (rest > 0)
        {
            tiles.Add(Tile(method, rest, full * tb, pv, nb, k));
        }

        DenseGroupKernel? group = null;
        if (_batchGroup > 1)
        {
            int gtb = s.GroupTileB, gRest = nb % gtb;
            group = new DenseGroupKernel
            {
                Method = method + "Group",
                Images = _batchGroup,
                TileVectors = gtb,
                FullTiles = nb / gtb,
                LastTileVectors = gRest,
                TileMethod = method + "GroupTile" + gtb.ToString(CultureInfo.InvariantCulture),
                LastTileMethod = gRest > 0 ? method + "GroupTile" + gRest.ToString(CultureInfo.InvariantCulture) : null,
                XImageStride = x.External ? _g.Net.Input.Size : _workspace,
                YImageStride = _workspace,
            };
        }

        return new DenseKernel
        {
            Method = method,
            Title = n.Title,
            LayerName = n.Layer(l.Spec.Name),
            X = x,
            Y = y,
            Features = k,
            Hwc = x.Layout == Layout.Hwc,
            MergedPixels = x.Layout == Layout.Hwc && !x.HasBorder,
            PackVectors = pv,
            TileVectors = tb,
            FullTiles = full,
            Tiles = tiles.ToEquatableArray(),
            Activation = Activation(s),
            Group = group,
        };
    }

    /// <summary>
    /// A tile of <paramref name="vectors"/> outputs starting at output vector <paramref name="start"/>: the weights
    /// are packed in tiles of <paramref name="packVectors"/> vectors ([feature][packVectors x V] each, the last one
    /// narrower), so the tile reads one stream per packed tile it covers.
    /// </summary>
    private DenseTile Tile(string method, int vectors, int start, int packVectors, int outputVectors, long features)
    {
        int v = _m.Width;
        var streams = new List<DenseStream>();
        for (int m = 0; m < ((vectors - 1) / packVectors) + 1; m++)
        {
            int packStart = (start / packVectors * packVectors) + (m * packVectors);
            int width = Math.Min(packVectors, outputVectors - packStart);
            streams.Add(new DenseStream((long)m * features * packVectors * v, (long)width * v));
        }

        return new DenseTile
        {
            Method = method + "Tile" + vectors.ToString(CultureInfo.InvariantCulture),
            Vectors = vectors,
            StartVector = start,
            Streams = streams.ToEquatableArray(),
        };
    }
}
