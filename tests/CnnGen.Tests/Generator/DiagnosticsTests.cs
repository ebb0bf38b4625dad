using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace CnnGen.Tests.Generator;

/// <summary>One test per diagnostic: its ID, where it points (the text under the squiggle), and its message.</summary>
public sealed partial class DiagnosticsTests
{
    private static GeneratorResult? _last;

    private static Diagnostic Single(string source, string id)
    {
        var result = GeneratorHarness.Run("using CnnGen;\n" + source);
        _last = result;
        var diags = result.GeneratorDiagnostics.Where(d => d.Id.StartsWith("CNN", System.StringComparison.Ordinal)).ToList();
        Assert.That(diags.Select(d => d.Id), Does.Contain(id), "diagnostics: " + string.Join("; ", diags));
        Assert.That(result.GeneratorDiagnostics.Where(d => d.Id == "CNN0099"), Is.Empty, "the generator must not fail internally");
        return diags.First(d => d.Id == id);
    }

    /// <summary>The source text a diagnostic points at (generator locations carry the file path, not the tree).</summary>
    private static string Squiggled(Diagnostic d)
    {
        string path = d.Location.GetLineSpan().Path;
        var tree = _last!.Output.SyntaxTrees.Single(t => t.FilePath == path);
        return tree.GetText().ToString(d.Location.SourceSpan);
    }

    private static string Message(Diagnostic d) => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);

    [Test]
    public void CNN0001_class_not_partial()
    {
        var d = Single("[Network, Input(1, 8, 8), Flatten, Dense(2)] public class Net { }", "CNN0001");
        Assert.That(Squiggled(d), Is.EqualTo("Net"));
        Assert.That(Message(d), Does.Contain("'Net' must be declared 'partial'"));
        Assert.That(d.Severity, Is.EqualTo(DiagnosticSeverity.Error));
    }

    [Test]
    public void CNN0002_no_input()
    {
        var d = Single("[Network, Flatten, Dense(2)] public partial class Net;", "CNN0002");
        Assert.That(Squiggled(d), Is.EqualTo("Network"));
        Assert.That(Message(d), Does.Contain("add one, e.g. [Input(1, 28, 28)]"));
    }

    [Test]
    public void CNN0003_two_inputs()
    {
        var d = Single("[Network, Input(1, 8, 8), Input(3, 8, 8), Flatten, Dense(2)] public partial class Net;", "CNN0003");
        Assert.That(Squiggled(d), Is.EqualTo("Input(3, 8, 8)"));
        Assert.That(Message(d), Does.Contain("more than once"));
    }

    [Test]
    public void CNN0004_non_positive_size_points_at_the_argument()
    {
        var d = Single("[Network, Input(1, 8, 8), Conv2D(0, 3), Flatten, Dense(2)] public partial class Net;", "CNN0004");
        Assert.That(Squiggled(d), Is.EqualTo("0"));
        Assert.That(Message(d), Is.EqualTo("Conv2D 'conv1': Filters must be at least 1, but is 0"));

        var s = Single("[Network, Input(1, 8, 8), Conv2D(4, 3, Stride = -1)] public partial class Net;", "CNN0004");
        Assert.That(Squiggled(s), Is.EqualTo("Stride = -1"));

        var i = Single("[Network, Input(1, 0, 8), Flatten, Dense(2)] public partial class Net;", "CNN0004");
        Assert.That(Squiggled(i), Is.EqualTo("Input(1, 0, 8)"));
        Assert.That(Message(i), Does.Contain("height must be at least 1"));
    }

    [Test]
    public void CNN0005_window_does_not_fit()
    {
        var d = Single("[Network, Input(1, 4, 4), Conv2D(6, 5, Name = \"conv3\")] public partial class Net;", "CNN0005");
        Assert.That(Squiggled(d), Is.EqualTo("Conv2D(6, 5, Name = \"conv3\")"));
        Assert.That(Message(d), Is.EqualTo("Conv2D 'conv3': the 5x5 window does not fit the 4x4 input; use Padding = 1 or a smaller kernel"));

        var p = Single("[Network, Input(1, 4, 4), Conv2D(2, 3), MaxPool2D(2), MaxPool2D(2)] public partial class Net;", "CNN0005");
        Assert.That(Message(p), Does.StartWith("MaxPool2D 'maxpool2': the 2x2 window does not fit the 1x1 input"));
    }

    [Test]
    public void CNN0006_dense_on_spatial_input()
    {
        var d = Single("[Network, Input(1, 8, 8), Conv2D(4, 3), Dense(10)] public partial class Net;", "CNN0006");
        Assert.That(Squiggled(d), Is.EqualTo("Dense(10)"));
        Assert.That(Message(d), Is.EqualTo("Dense 'fc1' reads the 4x6x6 output of 'conv1', which is ambiguous; add [Flatten] before it"));
    }

    [Test]
    public void CNN0007_softmax_not_last()
    {
        var d = Single("[Network, Input(1, 8, 8), Flatten, Dense(10, Activation = Activation.Softmax), Dense(2)] public partial class Net;", "CNN0007");
        Assert.That(Squiggled(d), Is.EqualTo("Activation = Activation.Softmax"));
        Assert.That(Message(d), Does.Contain("'fc1' applies Softmax but is not the network's output"));

        var s = Single("[Network, Input(1, 8, 8), Flatten, Softmax, Dense(2)] public partial class Net;", "CNN0007");
        Assert.That(Squiggled(s), Is.EqualTo("Softmax"));
    }

    [Test]
    public void CNN0008_no_layers()
    {
        var d = Single("[Network, Input(1, 8, 8)] public partial class Net;", "CNN0008");
        Assert.That(Message(d), Does.Contain("declares no layers"));
    }

    [Test]
    public void CNN0009_unknown_or_later_reference()
    {
        var d = Single("[Network, Input(1, 8, 8), Conv2D(4, 3, From = \"nope\")] public partial class Net;", "CNN0009");
        Assert.That(Squiggled(d), Is.EqualTo("From = \"nope\""));
        Assert.That(Message(d), Does.Contain("reads 'nope', which is not declared before it"));

        var later = Single("[Network, Input(1, 8, 8), Conv2D(4, 3, From = \"b\", Name = \"a\"), Conv2D(4, 3, Name = \"b\")] public partial class Net;", "CNN0009");
        Assert.That(Message(later), Does.Contain("reads 'b'"));

        var add = Single("[Network, Input(1, 8, 8), Conv2D(1, 1), Add(\"conv1\", \"missing\")] public partial class Net;", "CNN0009");
        Assert.That(Squiggled(add), Is.EqualTo("\"conv1\""));
    }

    [Test]
    public void CNN0010_duplicate_name()
    {
        var d = Single("[Network, Input(1, 8, 8), Conv2D(4, 3, Name = \"a\"), Conv2D(4, 3, Name = \"a\")] public partial class Net;", "CNN0010");
        Assert.That(Message(d), Is.EqualTo("Layer name 'a' is used twice; give every layer a unique Name"));
    }

    [Test]
    public void CNN0011_invalid_padding()
    {
        var same = Single("[Network, Input(1, 8, 8), Conv2D(4, 3, Stride = 2, PaddingMode = PaddingMode.Same)] public partial class Net;", "CNN0011");
        Assert.That(Squiggled(same), Is.EqualTo("PaddingMode = PaddingMode.Same"));
        Assert.That(Message(same), Does.Contain("needs stride 1"));

        var pool = Single("[Network, Input(1, 8, 8), MaxPool2D(2, Padding = 2)] public partial class Net;", "CNN0011");
        Assert.That(Squiggled(pool), Is.EqualTo("Padding = 2"));
        Assert.That(Message(pool), Does.Contain("more than half"));
    }

    [Test]
    public void CNN0012_spatial_layer_after_flatten()
    {
        var d = Single("[Network, Input(1, 8, 8), Flatten, Conv2D(4, 3)] public partial class Net;", "CNN0012");
        Assert.That(Message(d), Is.EqualTo("Conv2D 'conv1' needs a C x H x W input, but 'flatten1' is a flat vector of 64; move it before [Flatten]/[Dense]"));
    }

    [Test]
    public void CNN0013_groups_do_not_divide_channels()
    {
        var d = Single("[Network, Input(3, 8, 8), Conv2D(4, 3, Groups = 2)] public partial class Net;", "CNN0013");
        Assert.That(Squiggled(d), Is.EqualTo("Groups = 2"));
        Assert.That(Message(d), Does.Contain("3 input channels and 4 filters must both be divisible by Groups = 2"));
    }

    [Test]
    public void CNN0014_merge_shapes_differ()
    {
        var add = Single("[Network, Input(2, 8, 8), Conv2D(4, 3, Name = \"a\"), Add(\"a\", \"input\")] public partial class Net;", "CNN0014");
        Assert.That(Message(add), Does.Contain("'a' is 4x6x6 but 'input' is 2x8x8; Add needs equal shapes"));

        var cat = Single("[Network, Input(2, 8, 8), Conv2D(4, 3, Name = \"a\"), Concat(\"a\", \"input\")] public partial class Net;", "CNN0014");
        Assert.That(Message(cat), Does.Contain("Concat joins channels and needs equal height and width"));
    }

    [Test]
    public void CNN0015_unused_layer_is_a_warning()
    {
        var d = Single("[Network, Input(1, 8, 8), Conv2D(4, 3, Name = \"dead\"), Conv2D(4, 3, From = \"input\")] public partial class Net;", "CNN0015");
        Assert.That(d.Severity, Is.EqualTo(DiagnosticSeverity.Warning));
        Assert.That(Message(d), Does.Contain("'dead' is not used"));
    }

    [Test]
    public void CNN0016_containing_type_not_partial()
    {
        var d = Single("public class Outer { [Network, Input(1, 8, 8), Flatten, Dense(2)] public partial class Net; }", "CNN0016");
        Assert.That(Message(d), Does.Contain("nested in 'Outer', which must also be declared 'partial'"));
    }

    [Test]
    public void CNN0017_generic_class()
    {
        var d = Single("[Network, Input(1, 8, 8), Flatten, Dense(2)] public partial class Net<T>;", "CNN0017");
        Assert.That(Squiggled(d), Is.EqualTo("Net"));
    }

    [Test]
    public void CNN0018_too_large()
    {
        var d = Single("[Network, Input(64, 4096, 4096), Flatten, Dense(2)] public partial class Net;", "CNN0018");
        Assert.That(Message(d), Does.Contain("has more than 268435456 values"));
    }

    [Test]
    public void CNN0019_invalid_argument()
    {
        var d = Single("[Network, Input(1, 8, 8), BatchNorm2D(Eps = 0f)] public partial class Net;", "CNN0019");
        Assert.That(Squiggled(d), Is.EqualTo("Eps = 0f"));
        Assert.That(Message(d), Does.Contain("Eps must be a positive finite number"));

        var a = Single("[Network, Input(1, 8, 8), Conv2D(2, 3, Activation = Activation.LeakyRelu, Alpha = float.NaN)] public partial class Net;", "CNN0019");
        Assert.That(Message(a), Does.Contain("Alpha must be a finite number"));
    }

    [Test]
    public void CNN0020_unknown_output()
    {
        var d = Single("[Network(Output = \"nope\"), Input(1, 8, 8), Flatten, Dense(2)] public partial class Net;", "CNN0020");
        Assert.That(Message(d), Does.Contain("Output = \"nope\" names no declared layer"));
    }

    [Test]
    public void CNN0021_input_without_network()
    {
        var d = Single("[Input(1, 8, 8), Flatten, Dense(2)] public partial class Net;", "CNN0021");
        Assert.That(Squiggled(d), Is.EqualTo("Net"));
        Assert.That(d.Severity, Is.EqualTo(DiagnosticSeverity.Warning));
        Assert.That(Message(d), Is.EqualTo("Class 'Net' declares [Input] but not [Network], so CnnGen generates nothing for it; add [Network]"));
    }

    [Test]
    public void A_valid_network_has_no_diagnostics_and_compiles()
    {
        var result = GeneratorHarness.Run("using CnnGen;\nnamespace N { public partial class Outer { [Network, Input(3, 9, 7), Conv2D(4, 3, 2, Padding = 1), Flatten, Dense(5)] internal partial class Net; } }");
        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning), Is.Empty);
        Assert.That(result.Files.Keys, Does.Contain("N.Outer.Net.g.cs"));
    }

    [Test]
    public void Layer_names_that_collide_as_identifiers_still_compile()
    {
        var result = GeneratorHarness.Run("using CnnGen;\n[Network, Input(1, 6, 6), Conv2D(2, 3, Name = \"conv1\"), Conv2D(2, 1, Name = \"Conv1\"), Conv2D(2, 1, Name = \"forward\"), Conv2D(2, 1, Name = \"pack-input\"), Flatten, Dense(3, Name = \"1.x\"), Softmax(Name = \"fc\")] public partial class Net;");
        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error), Is.Empty);
    }

    [Test]
    public void Every_descriptor_has_a_test_and_a_stable_unique_id()
    {
        var ids = typeof(DiagnosticsTests).GetMethods().Select(m => m.Name).Where(n => n.StartsWith("CNN", System.StringComparison.Ordinal)).Select(n => n[..7]).ToHashSet();
        var descriptors = typeof(CnnGen.Generator.CnnGenerator).Assembly.GetType("CnnGen.Generator.Diagnostics.DiagnosticDescriptors")!
            .GetFields().Where(f => f.FieldType == typeof(DiagnosticDescriptor)).Select(f => (DiagnosticDescriptor)f.GetValue(null)!).ToList();
        Assert.That(descriptors.Select(d => d.Id), Is.Unique);
        var untested = descriptors.Select(d => d.Id).Where(id => id != "CNN0099" && !ids.Contains(id)).ToList();
        Assert.That(untested, Is.Empty, "diagnostics without a test");
    }
}
