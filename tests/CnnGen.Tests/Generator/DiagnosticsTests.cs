using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Shapes;
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

    /// <summary>Every diagnostic of <paramref name="id"/> the generator reports for <paramref name="source"/> (none of them CNN0099).</summary>
    private static List<Diagnostic> All(string source, string id)
    {
        Single(source, id);
        return _last!.GeneratorDiagnostics.Where(d => d.Id == id).ToList();
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
    public void CNN0004_every_bad_layer_is_reported_once()
    {
        // A layer after a failed one still checks its own arguments; Stride = -1 (both strides) is reported once.
        var all = All("[Network, Input(1, 8, 8), Conv2D(0, 3), Conv2D(2, 3, Stride = -1), Flatten, Dense(0)] public partial class Net;", "CNN0004");
        Assert.That(all.Select(d => Squiggled(d) + ": " + Message(d)), Is.EqualTo(new[]
        {
            "0: Conv2D 'conv1': Filters must be at least 1, but is 0",
            "Stride = -1: Conv2D 'conv2': the stride must be at least 1, but is -1",
            "0: Dense 'fc1': Units must be at least 1, but is 0",
        }));

        // Behind an invalid input too.
        var behind = All("[Network, Input(1, 0, 8), MaxPool2D(0), Flatten, Dense(2)] public partial class Net;", "CNN0004");
        Assert.That(behind.Select(Squiggled), Is.EqualTo(new[] { "Input(1, 0, 8)", "0" }));
    }

    [Test]
    public void CNN0005_window_does_not_fit()
    {
        var d = Single("[Network, Input(1, 4, 4), Conv2D(6, 5, Name = \"conv3\")] public partial class Net;", "CNN0005");
        Assert.That(Squiggled(d), Is.EqualTo("Conv2D(6, 5, Name = \"conv3\")"));
        Assert.That(Message(d), Is.EqualTo("Conv2D 'conv3': the 5x5 window does not fit the 4x4 input; use Padding = 1 or a smaller kernel"));

        var p = Single("[Network, Input(1, 4, 4), Conv2D(2, 3), MaxPool2D(2), MaxPool2D(2)] public partial class Net;", "CNN0005");
        Assert.That(Message(p), Does.StartWith("MaxPool2D 'maxpool2': the 2x2 window does not fit the 1x1 input"));

        var dilated = Single("[Network, Input(1, 9, 9), Conv2D(2, 5, Dilation = 3)] public partial class Net;", "CNN0005");
        Assert.That(Message(dilated), Is.EqualTo("Conv2D 'conv1': the 5x5 (dilated to 13x13) window does not fit the 9x9 input; use Padding = 2 or a smaller kernel or dilation"));

        // Sizes in long: no 'dilated to -1x-1', and no padding suggested that could not be generated.
        var huge = Single("[Network, Input(1, 8, 8), Conv2D(2, 3, Dilation = int.MaxValue)] public partial class Net;", "CNN0005");
        Assert.That(Message(huge), Is.EqualTo("Conv2D 'conv1': the 3x3 (dilated to 4294967295x4294967295) window does not fit the 8x8 input; use a smaller kernel or dilation"));
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
    public void CNN0014_merge_without_two_inputs()
    {
        var none = All("[Network, Input(4, 8, 8), Conv2D(4, 3, Padding = 1), Add()] public partial class Net;", "CNN0014");
        Assert.That(none.Select(Squiggled), Is.EqualTo(new[] { "Add()" }));
        Assert.That(Message(none[0]), Is.EqualTo("Add 'add1': Add needs at least two inputs, e.g. [Add(\"conv2\", \"input\")], but has none"));

        var nullList = Single("[Network, Input(4, 8, 8), Conv2D(4, 3, Padding = 1), Concat(null)] public partial class Net;", "CNN0014");
        Assert.That(Squiggled(nullList), Is.EqualTo("null"));
        Assert.That(Message(nullList), Is.EqualTo("Concat 'concat1': Concat needs at least two inputs, e.g. [Concat(\"branch1\", \"branch2\")], but has none"));

        var empty = Single("[Network, Input(4, 8, 8), Conv2D(4, 3, Padding = 1), Add(\"\")] public partial class Net;", "CNN0014");
        Assert.That(Squiggled(empty), Is.EqualTo("\"\""));
        Assert.That(Message(empty), Does.EndWith("but has only ''"));
        Assert.That(_last!.GeneratorDiagnostics.Select(d => d.Id), Is.EqualTo(new[] { "CNN0014" }), "one diagnostic, not an unknown reference too");
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

        // A partial generic containing type is supported (it was reported as not partial).
        var generic = GeneratorHarness.Run("using CnnGen;\npublic partial class Outer<T> { [Network, Input(1, 8, 8), Flatten, Dense(2)] public partial class Net; }");
        Assert.That(generic.GeneratorDiagnostics, Is.Empty);
        Assert.That(generic.Files.Keys, Does.Contain("Outer{T}.Net.g.cs"));
        Assert.That(generic.Output.GetDiagnostics().Where(x => x.Severity == DiagnosticSeverity.Error), Is.Empty);
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
    public void CNN0018_sizes_that_overflow_an_int_name_the_layer_and_the_size()
    {
        var padding = Single("[Network, Input(1, 8, 8), Conv2D(2, 3, Padding = int.MaxValue)] public partial class Net;", "CNN0018");
        Assert.That(Squiggled(padding), Is.EqualTo("Padding = int.MaxValue"));
        Assert.That(Message(padding), Is.EqualTo("Network 'Net': Conv2D 'conv1' pads its 1x8x8 input to 4294967302x4294967302, which takes more than 268435456 floats; use a smaller padding"));

        var dense = Single("[Network, Input(64, 64, 64), Flatten, Dense(200000)] public partial class Net;", "CNN0018");
        Assert.That(Squiggled(dense), Is.EqualTo("Dense(200000)"));
        Assert.That(Message(dense), Is.EqualTo("Network 'Net': the weights of Dense 'fc1' (200000 x 262144, packed with the outputs padded to 16 lanes) take more than 268435456 floats"));

        var lanes = Single("[Network, Input(1, 16384, 16384), Conv2D(1, 1)] public partial class Net;", "CNN0018");
        Assert.That(Message(lanes), Is.EqualTo("Network 'Net': the input (1x16384x16384) takes 4294967296 floats with its channels padded to 16 lanes, more than 268435456"));

        string branches = string.Concat(Enumerable.Range(0, 9).Select(i => $"ReLU(From = \"input\", Name = \"b{i}\"), "));
        var workspace = Single($"[Network, Input(16, 4096, 4096), {branches}Add(\"b0\", \"b1\", \"b2\", \"b3\", \"b4\", \"b5\", \"b6\", \"b7\", \"b8\")] public partial class Net;", "CNN0018");
        Assert.That(Squiggled(workspace), Is.EqualTo("Network"));
        Assert.That(Message(workspace), Is.EqualTo("Network 'Net': the workspace needs 2147483648 floats at 'b6', where 8 tensors are live, more than 2147483591"));

        // A stride along an axis with one output changes nothing: it compiles.
        var stride = GeneratorHarness.Run("using CnnGen;\n[Network, Input(2, 8, 8), Conv2D(4, 3, Stride = int.MaxValue), Flatten, Dense(2)] public partial class Net;");
        Assert.That(stride.GeneratorDiagnostics, Is.Empty);
        Assert.That(stride.Output.GetDiagnostics().Where(x => x.Severity == DiagnosticSeverity.Error), Is.Empty);
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
    public void CNN0019_enum_values_no_member_has()
    {
        var all = All("[Network, Input(1, 8, 8), Conv2D(2, 3, Activation = (Activation)99), Conv2D(2, 3, PaddingMode = (PaddingMode)7)] public partial class Net;", "CNN0019");
        Assert.That(all.Select(Squiggled), Is.EqualTo(new[] { "Activation = (Activation)99", "PaddingMode = (PaddingMode)7" }));
        Assert.That(Message(all[0]), Is.EqualTo("Conv2D 'conv1': Activation = (Activation)99 is not a value of Activation; use one of Activation.None, Activation.Relu, Activation.Relu6, Activation.LeakyRelu, Activation.Sigmoid, Activation.Tanh, Activation.SiLU, Activation.Softmax"));
        Assert.That(Message(all[1]), Is.EqualTo("Conv2D 'conv2': PaddingMode = (PaddingMode)7 is not a value of PaddingMode; use one of PaddingMode.Explicit, PaddingMode.Valid, PaddingMode.Same"));

        var p = Single("[Network, Input(1, 8, 8), Flatten, Dropout(float.NaN), Dense(2)] public partial class Net;", "CNN0019");
        Assert.That(Squiggled(p), Is.EqualTo("float.NaN"));
        Assert.That(Message(p), Is.EqualTo("Dropout 'dropout1': the drop probability must be between 0 and 1 (as in PyTorch), but is NaN"));
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
    public void CNN0030_invalid_layer_name()
    {
        var d = Single("[Network, Input(1, 4, 4), Flatten, Dense(2, Name = \"a\\nb\")] public partial class Net;", "CNN0030");
        Assert.That(Squiggled(d), Is.EqualTo("Name = \"a\\nb\""));
        Assert.That(Message(d), Is.EqualTo("Dense: the layer name \"a\\nb\" contains a line break (U+000A); a state_dict key never holds one, so remove it"));

        var all = All("[Network, Input(1, 4, 4), Flatten(Name = \"\"), ReLU(Name = \"input\"), Dense(2, Name = \"\\u2028\"), Softmax(Name = \"a\\u0007\")] public partial class Net;", "CNN0030");
        Assert.That(all.Select(Message), Is.EqualTo(new[]
        {
            "Flatten: the layer name \"\" is empty; remove Name to use the default name, or give one",
            "ReLU: the layer name \"input\" is the name of the network's input (From = \"input\" reads it); rename the layer",
            "Dense: the layer name \"\\u2028\" contains a line break (U+2028); a state_dict key never holds one, so remove it",
            "Softmax: the layer name \"a\\a\" contains the control character U+0007; a state_dict key never holds one, so remove it",
        }));

        var surrogate = Single("[Network, Input(1, 4, 4), Flatten, Dense(2, Name = \"\\ud800\")] public partial class Net;", "CNN0030");
        Assert.That(Message(surrogate), Does.Contain("an unpaired surrogate (U+D800), which UTF-8 (and so a safetensors file) cannot encode"));
    }

    [Test]
    public void CNN0031_class_that_cannot_hold_the_generated_members()
    {
        var s = Single("[Network, Input(1, 4, 4), Flatten, Dense(2)] public static partial class Net;", "CNN0031");
        Assert.That(Squiggled(s), Is.EqualTo("Net"));
        Assert.That(Message(s), Is.EqualTo("Network class 'Net' is static; CnnGen adds instance members (the weights, Predict) and a constructor to it, so remove 'static'"));

        var a = Single("[Network, Input(1, 4, 4), Flatten, Dense(2)] public abstract partial class Net;", "CNN0031");
        Assert.That(Message(a), Is.EqualTo("Network class 'Net' is abstract; the generated Load creates instances of it, so remove 'abstract'"));

        var f = Single("[Network, Input(1, 4, 4), Flatten, Dense(2)] file partial class Net;", "CNN0031");
        Assert.That(Message(f), Is.EqualTo("Network class 'Net' is file-local; the generated code is in another file, where the name means another type, so remove 'file'"));

        var p = Single("[Network, Input(1, 4, 4), Flatten, Dense(2)] public partial class Net(int x);", "CNN0031");
        Assert.That(Message(p), Is.EqualTo("Network class 'Net' has a primary constructor; the generated constructor would have to call it, so remove the parameter list"));

        var b = Single("public class Base { public Base(int x) { } } [Network, Input(1, 4, 4), Flatten, Dense(2)] public partial class Net : Base;", "CNN0031");
        Assert.That(Message(b), Is.EqualTo("Network class 'Net' derives from 'Base', which has no accessible parameterless constructor for the generated constructor to call; add one, or derive from another class"));

        var two = GeneratorHarness.Run("using CnnGen;\n[Network, Input(1, 4, 4), Flatten, Dense(2)] file partial class Net;", "using CnnGen;\n[Network, Input(1, 4, 4), Flatten, Dense(2)] file partial class Net;");
        Assert.That(two.GeneratorDiagnostics.Select(x => x.Id), Is.EqualTo(new[] { "CNN0031", "CNN0031" }), "two file-local classes: two diagnostics, no duplicate hint name");
    }

    [Test]
    public void CNN0032_name_reserved_by_the_generated_code()
    {
        var c = Single("[Network, Input(1, 4, 4), Flatten, Dense(2)] public partial class Summary;", "CNN0032");
        Assert.That(Squiggled(c), Is.EqualTo("Summary"));
        Assert.That(Message(c), Is.EqualTo("Network class 'Summary' has the name of a member CnnGen generates in it (C# forbids a member named like its class); rename it"));

        var members = All("[Network, Input(1, 4, 4), Flatten, Dense(2)] public partial class Net { public int InputSize; private float[] _fc1Weight = new float[0]; public void Predict(string path) { } }", "CNN0032");
        Assert.That(members.Select(Squiggled), Is.EqualTo(new[] { "InputSize", "_fc1Weight" }), "an overload of a generated method is fine");
        Assert.That(Message(members[0]), Is.EqualTo("Field 'InputSize' has the name of a member CnnGen generates in network 'Net'; rename it"));

        var inherited = Single("public class Base { public int Summary; } [Network, Input(1, 4, 4), Flatten, Dense(2)] public partial class Net : Base;", "CNN0032");
        Assert.That(Message(inherited), Is.EqualTo("Field 'Base.Summary' is inherited by network 'Net', which CnnGen gives a member of that name (hiding it is a warning); rename it"));

        var var = Single("[Network, Input(1, 4, 4), Flatten, Dense(2)] public partial class @var;", "CNN0032");
        Assert.That(Message(var), Is.EqualTo("Network class 'var' is named like the contextual keyword 'var', which the generated code uses inside it; rename it"));
    }

    [Test]
    public void CNN0034_none_today_a_trainable_multiply_and_adaptive_pool_generate_a_trainer()
    {
        // The example CNN0034 had when Multiply and AdaptiveAvgPool2D had no generated backward: now a trainer, no diagnostic.
        const string declaration = "[Network(Trainable = true), Input(4, 6, 6), Conv2D(4, 1, Name = \"a\"), GlobalAvgPool2D(Name = \"g\"), Multiply(\"a\", \"g\", Name = \"scale\"), AdaptiveAvgPool2D(4), Flatten, Dense(2)] public partial class Net;";
        var result = GeneratorHarness.Run("using CnnGen;\n" + declaration);
        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.Output.GetDiagnostics().Where(x => x.Severity >= DiagnosticSeverity.Warning), Is.Empty);
        string backward = result.Files.Single(f => f.Key.EndsWith(".Backward256.g.cs", System.StringComparison.Ordinal)).Value;
        Assert.That(backward, Does.Contain("void ScaleBackwardMap(").And.Contain("void ScaleBackwardScale(").And.Contain("void Avgpool1Backward("));
    }

    [Test]
    public void CNN0034_safety_net_a_step_kind_without_a_backward_stops_the_trainer_plan()
    {
        // No declaration reaches it: the trainer's options never plan a kind without a backward. A pixel-vectorized first
        // convolution (an inference-only step kind) planned with the trainer's options otherwise is one; the backward throws
        // NotTrainableException naming the layer, which the generator reports as CNN0034 on that layer's attribute.
        var net = GeneratorHarness.Models("using CnnGen;\n[Network(Trainable = true), Input(1, 12, 12), Conv2D(3, 3, Name = \"c1\"), Flatten, Dense(2)] public partial class Net;").Single().Net;
        Assert.That(TrainingPlanner.Plan(net).Plans, Is.Not.Empty, "with the trainer's options");
        var ex = Assert.Throws<NotTrainableException>(() => TrainingPlanner.Plan(net, PlanOptions.Trainer with { PixelFirstLayer = true }));
        Assert.That(net.Layers[ex!.Layer].Spec.Name, Is.EqualTo("c1"));
        Assert.That(DiagnosticDescriptors.NotTrainable.Id, Is.EqualTo("CNN0034"));
    }

    [Test]
    public void CNN0033_layers_on_two_parts()
    {
        var d = Single("[Network, Input(1, 4, 4), Flatten] public partial class Net;\n[Dense(2)] public partial class Net;", "CNN0033");
        Assert.That(Squiggled(d), Is.EqualTo("Dense(2)"));
        Assert.That(Message(d), Is.EqualTo("Network 'Net' declares layers on more than one part of its partial class (Source0.cs line 2 and Source0.cs line 3); their order would depend on the order of files, so declare every layer attribute on one part"));

        // [Input] and [Network] may be on any part.
        var split = GeneratorHarness.Run("using CnnGen;\n[Network, Flatten, Dense(2)] public partial class Net;", "using CnnGen;\n[Input(1, 4, 4)] public partial class Net;");
        Assert.That(split.GeneratorDiagnostics, Is.Empty);
        Assert.That(split.Output.GetDiagnostics().Where(x => x.Severity == DiagnosticSeverity.Error), Is.Empty);
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
