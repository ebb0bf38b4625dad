using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Shapes;

namespace CnnGen.Tests.Generator;

/// <summary>
/// The bounds of <see cref="Limits"/> where no declaration the suites can compile in reasonable time reaches them (FLOPs
/// beyond a long need about a thousand layers of billion-tap kernels), and the widths they assume.
/// </summary>
public sealed class HostileLimitsTests
{
    private static ShapedLayer Layer(string name, TensorShape shape, long macs, params int[] inputs) => new()
    {
        Spec = new LayerSpec { Kind = LayerKind.Conv2D, DisplayKind = "Conv2D", Name = name, Inputs = EquatableArray<string>.Empty },
        Inputs = inputs.ToEquatableArray(),
        In = shape,
        Out = shape,
        Params = 0,
        Macs = macs,
    };

    [Test]
    public void FLOPs_beyond_a_long_are_refused()
    {
        var shape = TensorShape.Spatial(16, 64, 64);
        var layers = Enumerable.Range(0, 1100).Select(i => Layer("c" + i, shape, 1L << 52, i - 1)).ToList();
        Assert.That(Limits.Flops(layers), Does.StartWith("it performs 9.908E+018 FLOPs per image, more than a long holds"));
        Assert.That(Limits.Flops(layers.Take(1000)), Is.Null);
    }

    [Test]
    public void The_workspace_bound_counts_every_live_tensor_at_the_widest_point()
    {
        // Three branches of 2^28 floats from the input, summed: the input and all three are live at the last branch.
        var big = TensorShape.Spatial(16, 4096, 4096);
        var layers = new[] { Layer("a", big, 0, -1), Layer("b", big, 0, -1), Layer("c", big, 0, -1), Layer("sum", big, 0, 0, 1, 2) };
        Assert.That(Limits.Workspace(big, layers, 3), Is.Null, "the input and three branches: 2^30 floats");
        var seven = Enumerable.Range(0, 7).Select(i => Layer("b" + i, big, 0, -1)).Append(Layer("sum", big, 0, Enumerable.Range(0, 7).ToArray())).ToList();
        Assert.That(Limits.Workspace(big, seven, 7), Is.EqualTo("the workspace needs 2147483648 floats at 'b6', where 8 tensors are live, more than 2147483591"));
    }

    [Test]
    public void Channels_are_padded_to_the_widest_vector_the_planner_targets()
    {
        Assert.That(MachineModel.Targets.Max(t => t.Width), Is.EqualTo(Limits.Lanes));
        Assert.That(Limits.Tensor("t", 1, 4096, 4096), Is.Null);
        Assert.That(Limits.Tensor("t", 1, 4097, 4096), Is.EqualTo("t (1x4097x4096) takes 268500992 floats with its channels padded to 16 lanes, more than 268435456"));
        Assert.That(Limits.Tensor("t", int.MaxValue, int.MaxValue, int.MaxValue), Does.EndWith("has more than 268435456 values"));
    }
}
