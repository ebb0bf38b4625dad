using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>The Winograd F(2x2, 3x3) convolution's spec (<see cref="Passes.Winograd"/> chose it).</summary>
internal sealed partial class KernelSpecs
{
    private WinogradKernel Winograd(PlanStep s, KernelNames n, WinogradEstimate e)
    {
        var l = Layer(s);
        var spec = l.Spec;
        var x = X(s, n);
        var y = Y(s, n);
        int v = _m.Width;
        int tileCols = (y.W + 1) / Passes.Winograd.TileSide;
        return new WinogradKernel
        {
            Method = n.Method,
            Title = n.Title,
            LayerName = n.Layer(spec.Name),
            X = x,
            Y = y,
            Residual = s.FusedAdd >= 0 ? n.Tensor(T(s.Inputs[1]), "r") : null,
            ResidualLayer = s.FusedAdd >= 0 ? n.Fused(_g.Layers[s.FusedAdd].Spec.Name) : null,
            Scratch = n.Tensor(T(s.Inputs[s.Inputs.Count - 1]), "s"),
            Window = Window.Of(spec),
            Channels = l.In.C,
            Filters = l.Out.C,
            TileRows = (y.H + 1) / Passes.Winograd.TileSide,
            TileCols = tileCols,
            BlockRows = e.BlockRows,
            PositionPitch = Passes.Winograd.Pitch((long)e.BlockRows * tileCols, x.Cp, _m),
            TilePixels = s.TileP,
            TileVectors = s.TileB,
            TileGroups = y.Cp / v / s.TileB,
            TileFloats = s.TileB * v,
            XOrigin = x.PaddedOrigin(spec.PadTop, spec.PadLeft),
            Activation = Activation(s),
            DirectCycles = (long)e.Direct,
            WinogradCycles = (long)e.Winograd,
        };
    }
}
