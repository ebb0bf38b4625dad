using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Tests.Generator;

/// <summary>
/// Hostile declarations: merge layers without inputs, names with every character class, sizes that overflow, every
/// class kind and nesting. Each either compiles cleanly or gets a CnnGen error; the generator never fails and never
/// writes code with an error or a warning (<see cref="HostileHarness"/>).
/// </summary>
public sealed class HostileDeclarationTests
{
    private const string Tiny = "[Network, Input(1, 4, 4), Flatten, Dense(2)]";

    private static HostileCase C(string name, string source, string? expect = null, string? use = "Net.InputSize", params string[] userErrors) =>
        new() { Name = name, Sources = new[] { source }, Expect = expect, Use = use, UserErrors = userErrors };

    private static HostileCase Files(string name, string[] sources, string? expect = null, string? use = "Net.InputSize", params string[] userErrors) =>
        new() { Name = name, Sources = sources, Expect = expect, Use = use, UserErrors = userErrors };

    private static HostileCase Raw(string name, string source, string? expect = null, string? use = null) =>
        new() { Name = name, Sources = new[] { source }, Expect = expect, Use = use, Raw = true };

    /// <summary>A C# literal of a .NET string (control characters escaped).</summary>
    internal static string Lit(string s) => SymbolDisplay.FormatLiteral(s, quote: true);

    // ---- merge layers -----------------------------------------------------------------------------------------------

    public static IEnumerable<HostileCase> Merges()
    {
        const string head = "[Network, Input(4, 8, 8), Conv2D(4, 3, Padding = 1)]";
        yield return C("Add()", $"{head}[Add()] public partial class Net;", "CNN0014");
        yield return C("Concat()", $"{head}[Concat()] public partial class Net;", "CNN0014");
        yield return C("Add(null)", $"{head}[Add(null)] public partial class Net;", "CNN0014");
        yield return C("Concat(null)", $"{head}[Concat(null)] public partial class Net;", "CNN0014");
        yield return C("Add(\"\")", $"{head}[Add(\"\")] public partial class Net;", "CNN0014");
        yield return C("Add(one)", $"{head}[Add(\"conv1\")] public partial class Net;", "CNN0014");
        yield return C("Concat(one)", $"{head}[Concat(\"conv1\")] public partial class Net;", "CNN0014");
        yield return C("Add(empty, empty)", $"{head}[Add(\"\", \"\")] public partial class Net;", "CNN0009");
        yield return C("Add(null element)", $"{head}[Add(\"conv1\", null)] public partial class Net;", "CNN0009");
        yield return C("Add(new string[0])", $"{head}[Add(new string[0])] public partial class Net;", "CNN0014");
        yield return C("Add(self)", $"{head}[Add(\"add1\", \"conv1\")] public partial class Net;", "CNN0009");
        yield return C("Add(same twice)", $"{head}[Add(\"conv1\", \"conv1\")] public partial class Net;", HostileCase.Compiles);
        yield return C("Concat(same twice)", $"{head}[Concat(\"conv1\", \"conv1\", \"input\")] public partial class Net;", HostileCase.Compiles);
        yield return C("Add(40 inputs)", $"{head}[Add({string.Join(", ", Enumerable.Repeat("\"conv1\"", 40))})] public partial class Net;", HostileCase.Compiles);
        yield return C("Add(later)", $"{head}[Add(\"conv1\", \"conv2\"), Conv2D(4, 1)] public partial class Net;", "CNN0009");
        yield return C("Add(flat, spatial)", "[Network, Input(4, 1, 1), Flatten, Add(\"flatten1\", \"input\")] public partial class Net;", "CNN0014");
        yield return C("Concat(flat)", "[Network, Input(4, 1, 1), Flatten, Concat(\"flatten1\", \"flatten1\")] public partial class Net;", "CNN0012");
        yield return C("Add(flat, flat)", "[Network, Input(4, 2, 2), Flatten, Dense(3), Dense(3, From = \"flatten1\"), Add(\"fc1\", \"fc2\")] public partial class Net;", HostileCase.Compiles);
        yield return C("From = \"\"", "[Network, Input(1, 4, 4), Flatten(From = \"\"), Dense(2)] public partial class Net;", HostileCase.Compiles);
        yield return C("From null", "[Network, Input(1, 4, 4), Flatten(From = null), Dense(2)] public partial class Net;", HostileCase.Compiles);
        yield return C("Output = \"\"", "[Network(Output = \"\"), Input(1, 4, 4), Flatten, Dense(2)] public partial class Net;", "CNN0020");
        yield return C("Output = input", "[Network(Output = \"input\"), Input(1, 4, 4), Flatten, Dense(2)] public partial class Net;", "CNN0020");
        yield return C("Output = first", "[Network(Output = \"flatten1\"), Input(1, 4, 4), Flatten, Dense(2)] public partial class Net;");
        yield return C("Name = input", "[Network, Input(1, 4, 4), Flatten(Name = \"input\"), Dense(2)] public partial class Net;", "CNN0030");
        yield return C("duplicate named argument", "[Network, Input(1, 8, 8), Conv2D(2, 3, Stride = 1, Stride = 2), Flatten, Dense(2)] public partial class Net;", null, "Net.InputSize", "CS0643");
        yield return C("two errors in one layer", "[Network, Input(1, 8, 8), Conv2D(0, 0, Stride = 0), Flatten, Dense(0)] public partial class Net;", "CNN0004");
    }

    // ---- names ------------------------------------------------------------------------------------------------------

    /// <summary>Layer names that must work end to end: comments, doc comments, strings and identifiers stay valid.</summary>
    public static readonly string[] GoodNames =
    {
        "卷积", "слой", "طبقة", "שכבה", "層ﾚｲﾔ", "Ǆǅǆ", "ΣΑΣ", "ß", "İı", "1conv", "٣", "0", "layer1.0.conv1", ".", "..", "a..b", " ", "a b", " lead",
        "trail ", "\"", "'", "`", "\\", "\\n", "\\u000A", "*/", "/*", "//", "///", "<", ">", "&", "&amp;", "<see cref=\"x\"/>", "]]>", "<!--", "{", "}",
        "{0}", "$", "#", "#region", "#if X", "%", "?", "@", "class", "int", "@int", "void", "var", "nuint", "default", "this", "base", "null", "true",
        "return", "new", "unsafe", "fixed", "stackalloc", "in", "out", "ref", "value", "forward", "Forward", "run", "Run", "load", "Load", "Predict",
        "output", "workspace", "net", "reader", "tensors", "options", "width", "_width", "t_workspace", "kernels256", "Kernels256", "summary", "x",
        "y", "i", "Hot", "Fma", "ChooseWidth", "\u00a0", "\u200b", "\u202e", "\ufeff", "\u00ad", "😀", "e\u0301", "_", "__", "a-b", "a_b", "A-B",
        new string('x', 600), string.Concat(Enumerable.Repeat("卷积.", 700)),
    };

    /// <summary>Names no state_dict key holds: a CnnGen error on the name.</summary>
    public static readonly string[] BadNames =
    {
        "", "a\nb", "a\rb", "a\r\nb", "\n", "a\u2028b", "a\u2029b", "a\u0085b", "a\tb", "a\0b", "a\u007fb", "a\u001bb", "a\ud800b", "a\udc00", "\ud83d",
    };

    /// <summary>A network with the name on every kind of layer, so it reaches every place a name is written.</summary>
    private static string EveryLayerNamed(string n) => $$"""
        [Network, Input(2, 8, 8)]
        [Conv2D(4, 3, Padding = 1, Name = {{n}} + "c")]
        [BatchNorm2D(Name = {{n}} + "bn")]
        [Conv2D(4, 3, Padding = 1, Groups = 4, Name = {{n}} + "dw")]
        [Conv2D(4, 1, Name = {{n}} + "pw", Activation = Activation.Relu)]
        [Add({{n}} + "pw", {{n}} + "bn", Name = {{n}} + "add")]
        [BatchNorm2D(Name = {{n}} + "bn2")]
        [MaxPool2D(2, Name = {{n}} + "pool")]
        [Conv2D(3, 3, Padding = 1, From = {{n}} + "add", Name = {{n}} + "side")]
        [AvgPool2D(2, Name = {{n}} + "avg")]
        [Concat({{n}} + "pool", {{n}} + "avg", Name = {{n}} + "cat")]
        [ReLU(Name = {{n}} + "relu")]
        [Flatten(Name = {{n}} + "flat")]
        [Dense(3, Name = {{n}})]
        [Softmax(Name = {{n}} + "sm")]
        public partial class Net;
        """;

    public static IEnumerable<HostileCase> Names()
    {
        foreach (var n in GoodNames)
        {
            yield return C("name " + Lit(n.Length > 40 ? n[..40] + "..." : n), EveryLayerNamed(Lit(n)), HostileCase.Compiles);
        }

        foreach (var n in BadNames)
        {
            yield return C("bad name " + Lit(n), $"[Network, Input(1, 4, 4), Flatten, Dense(2, Name = {Lit(n)})] public partial class Net;", "CNN0030");
        }

        yield return C("bad names on two layers", $"[Network, Input(1, 4, 4), Flatten(Name = {Lit("a\nb")}), Dense(2, Name = {Lit("c\rd")})] public partial class Net;", "CNN0030");
        yield return C("bad From", $"[Network, Input(1, 4, 4), Flatten, Dense(2, From = {Lit("a\nb")})] public partial class Net;", "CNN0009");
        yield return C("bad Add input", $"[Network, Input(1, 4, 4), ReLU, Add({Lit("a\u2028b")}, \"input\")] public partial class Net;", "CNN0009");
        yield return C("bad Output", $"[Network(Output = {Lit("a\nb")}), Input(1, 4, 4), Flatten, Dense(2)] public partial class Net;", "CNN0020");
        yield return C("names differing only in case", "[Network, Input(1, 4, 4), ReLU(Name = \"a\"), ReLU(Name = \"A\"), Flatten, Dense(2, Name = \"a-\"), Dense(2, Name = \"a_\")] public partial class Net;", HostileCase.Compiles);
        yield return C("names mapping to one long identifier", $"[Network, Input(1, 4, 4), ReLU(Name = {Lit(new string('a', 700) + "1")}), ReLU(Name = {Lit(new string('a', 700) + "2")}), Flatten, Dense(2)] public partial class Net;", HostileCase.Compiles);
    }

    // ---- class names and kinds -------------------------------------------------------------------------------------

    public static IEnumerable<HostileCase> ClassKinds()
    {
        yield return C("partial record", $"{Tiny} public partial record Net;", HostileCase.Compiles);
        yield return C("partial record class", $"{Tiny} public partial record class Net;", HostileCase.Compiles);
        yield return C("sealed partial record", $"{Tiny} public sealed partial record Net {{ public int X {{ get; init; }} }}", HostileCase.Compiles);
        yield return C("positional record", $"{Tiny} public partial record Net(int X);", "CNN0031");
        yield return C("primary constructor", $"{Tiny} public partial class Net(int x) {{ public int X => x; }}", "CNN0031");
        yield return C("record struct", $"{Tiny} public partial record struct Net;", null, null, "CS0592");
        yield return C("struct", $"{Tiny} public partial struct Net;", null, null, "CS0592");
        yield return C("interface", $"{Tiny} public partial interface INet;", null, null, "CS0592");
        yield return C("static class", $"{Tiny} public static partial class Net;", "CNN0031");
        yield return C("abstract class", $"{Tiny} public abstract partial class Net;", "CNN0031");
        yield return C("abstract on the other part", Tiny + " public partial class Net; public abstract partial class Net;", "CNN0031");
        yield return C("static on the other part", Tiny + " public partial class Net; static partial class Net;", "CNN0031");
        yield return C("sealed class", $"{Tiny} public sealed partial class Net;", HostileCase.Compiles);
        yield return C("unsafe class", $"{Tiny} public unsafe partial class Net;", HostileCase.Compiles);
        yield return C("internal class", $"{Tiny} internal partial class Net;", HostileCase.Compiles);
        yield return C("no accessibility", $"{Tiny} partial class Net;", HostileCase.Compiles);
        yield return C("class with a body", $"{Tiny} public partial class Net {{ public int Extra => InputSize + 1; }}", HostileCase.Compiles, "new Net[0]");
        yield return C("file class", $"{Tiny} file partial class Net;", "CNN0031", null);
        yield return Files("two file classes in two files", new[] { $"{Tiny} file partial class Net;", $"{Tiny} file partial class Net;" }, "CNN0031", null);
        yield return Files("[Network] on both parts", new[] { $"{Tiny} public partial class Net;", "[Network] public partial class Net;" }, null, "Net.InputSize", "CS0579");
        yield return Files("[Network] twice on one part", new[] { $"{Tiny}[Network] public partial class Net;" }, null, "Net.InputSize", "CS0579");
        yield return Files("layers on two parts", new[] { "[Network, Input(1, 4, 4), Flatten] public partial class Net;", "[Dense(2)] public partial class Net;" }, "CNN0033");
        yield return Files("layers on two parts of one file", new[] { "[Network, Input(1, 4, 4), Flatten] public partial class Net; [Dense(2)] public partial class Net;" }, "CNN0033");
        yield return Files("input on another part", new[] { "[Network, Flatten, Dense(2)] public partial class Net;", "[Input(1, 4, 4)] public partial class Net;" }, HostileCase.Compiles);
        yield return Files("network on another part", new[] { "[Input(1, 4, 4), Flatten, Dense(2)] public partial class Net;", "[Network] public partial class Net;" }, HostileCase.Compiles);
        yield return C("not partial", $"{Tiny} public class Net;", "CNN0001", null);
        yield return C("generic", $"{Tiny} public partial class Net<T>;", "CNN0017", null);
        yield return C("derived from a class", $"public class Base {{ }} {Tiny} public partial class Net : Base;", HostileCase.Compiles);
        yield return C("derived from a class without a parameterless constructor", $"public class Base {{ public Base(int x) {{ }} }} {Tiny} public partial class Net : Base;", "CNN0031", null);
        yield return C("base class hides a generated member", $"public class Base {{ public int Summary; }} {Tiny} public partial class Net : Base;", "CNN0032", null);
        yield return C("base class with a private member of a generated name", $"public class Base {{ private int Summary = 1; public int S => Summary; }} {Tiny} public partial class Net : Base;", HostileCase.Compiles);
        yield return C("implements INetwork itself", $"{Tiny} public partial class Net : INetwork;", HostileCase.Compiles);
        yield return C("implements IDisposable", $"{Tiny} public partial class Net : System.IDisposable {{ public void Dispose() {{ }} }}", HostileCase.Compiles);
        yield return C("class name with a keyword", $"{Tiny} public partial class @class;", HostileCase.Compiles, "@class.InputSize");
        yield return C("class name var", $"{Tiny} public partial class @var;", "CNN0032", null);
        yield return C("class name nuint", $"{Tiny} public partial class @nuint;", "CNN0032", null);
        yield return C("class name record", $"{Tiny} public partial class @record;", null, "@record.InputSize");
        yield return C("class name escaped", $"{Tiny} public partial class N\\u0065t;", HostileCase.Compiles);
        yield return C("class name Cyrillic", $"{Tiny} public partial class Сеть;", HostileCase.Compiles, "Сеть.InputSize");
        yield return C("class name CJK", $"{Tiny} public partial class 网络;", HostileCase.Compiles, "网络.InputSize");
        yield return C("class name underscore", $"{Tiny} public partial class _;", HostileCase.Compiles, "_.InputSize");
        yield return C("class name 500 characters", $"{Tiny} public partial class {new string('N', 500)};", HostileCase.Compiles, new string('N', 500) + ".InputSize");
        yield return C("class name lower case", $"{Tiny} public partial class net;", null, "net.InputSize");
        foreach (var member in CnnGen.Generator.Parsing.ClassChecks.GeneratedMembers.Concat(new[] { "Trainer" }))
        {
            yield return C("class named " + member, $"{Tiny} public partial class {member};", member == "Trainer" ? null : "CNN0032", null);
        }

        foreach (var name in new[] { "Guard", "Buffers", "Packing", "Unsafe", "MemoryMarshal", "Vector256", "System", "CnnGen", "INetwork", "LoadOptions" })
        {
            yield return C("class named " + name, $"{Tiny} public partial class {name};", HostileCase.Compiles, name + ".InputSize");
        }

        yield return C("user field named Summary", $"{Tiny} public partial class Net {{ public int Summary; }}", "CNN0032", null);
        yield return C("user property named InputSize", $"{Tiny} public partial class Net {{ public int InputSize => 1; }}", "CNN0032", null);
        yield return C("user nested class Kernels256", $"{Tiny} public partial class Net {{ private sealed class Kernels256 {{ }} }}", "CNN0032", null);
        yield return C("user field t_workspace", $"{Tiny} public partial class Net {{ private static float[]? t_workspace; }}", "CNN0032", null);
        yield return C("user field named like a weight", "[Network, Input(1, 4, 4), Flatten, Dense(2)] public partial class Net { private float[] _fc1Weight = new float[1]; }", "CNN0032", null);
        yield return C("user method Summary()", $"{Tiny} public partial class Net {{ public static string Summary() => \"\"; }}", "CNN0032", null);
        yield return C("user overload Predict(string)", $"{Tiny} public partial class Net {{ public float[] Predict(string path) => new float[0]; }}", HostileCase.Compiles);
        yield return C("user overload Load(int)", $"{Tiny} public partial class Net {{ public static Net? Load(int x) => null; }}", HostileCase.Compiles);
        yield return C("user constructor", $"{Tiny} public partial class Net {{ public Net(int x) {{ }} }}", HostileCase.Compiles);
        yield return C("user parameterless constructor", $"{Tiny} public partial class Net {{ public Net() {{ }} }}", HostileCase.Compiles);
        yield return C("user static constructor", $"{Tiny} public partial class Net {{ static Net() {{ }} }}", HostileCase.Compiles);
        yield return C("user finalizer", $"{Tiny} public partial class Net {{ ~Net() {{ }} }}", HostileCase.Compiles);
    }

    public static IEnumerable<HostileCase> Nesting()
    {
        yield return C("nested in class", $"public partial class Outer {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer.Net.InputSize");
        yield return C("nested in struct", $"public partial struct Outer {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer.Net.InputSize");
        yield return C("nested in readonly struct", $"public readonly partial struct Outer {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer.Net.InputSize");
        yield return C("nested in ref struct", $"public ref partial struct Outer {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer.Net.InputSize");
        yield return C("nested in record", $"public partial record Outer {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer.Net.InputSize");
        yield return C("nested in record class", $"public partial record class Outer {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer.Net.InputSize");
        yield return C("nested in record struct", $"public partial record struct Outer {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer.Net.InputSize");
        yield return C("nested in positional record", $"public partial record Outer(int X) {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer.Net.InputSize");
        yield return C("nested in interface", $"public partial interface IOuter {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "IOuter.Net.InputSize");
        yield return C("nested in static class", $"public static partial class Outer {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer.Net.InputSize");
        yield return C("nested in abstract class", $"public abstract partial class Outer {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer.Net.InputSize");
        yield return C("nested in sealed class", $"public sealed partial class Outer {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer.Net.InputSize");
        yield return C("nested in generic class", $"public partial class Outer<T> {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer<int>.Net.InputSize");
        yield return C("nested in generic class with constraints", $"public partial class Outer<T, U> where T : struct where U : class, new() {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer<int, object>.Net.InputSize");
        yield return C("nested in variant interface", $"public partial interface IOuter<in T, out U> {{ {Tiny} public partial class Net; }}", null, null, "CS8427");
        yield return C("type parameter named var", $"public partial class Outer<@var> {{ {Tiny} public partial class Net; }}", "CNN0032", null);
        yield return C("generic and non-generic outer", $"public partial class Outer {{ {Tiny} public partial class Net; }} public partial class Outer<T> {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer<int>.Net.InputSize + Outer.Net.InputSize");
        yield return C("nested in generic with keyword type parameter", $"public partial class Outer<@class> {{ {Tiny} public partial class Net; }}", HostileCase.Compiles, "Outer<int>.Net.InputSize");
        yield return C("nested two deep in generics", $"public partial class A<T> {{ public partial struct B<U> {{ {Tiny} public partial class Net; }} }}", HostileCase.Compiles, "A<int>.B<int>.Net.InputSize");
        yield return C("nested in non-partial", $"public class Outer {{ {Tiny} public partial class Net; }}", "CNN0016", null);
        yield return C("nested in non-partial generic", $"public class Outer<T> {{ {Tiny} public partial class Net; }}", "CNN0016", null);
        yield return C("nested in file class", $"file partial class Outer {{ {Tiny} public partial class Net; }}", "CNN0031", null);
        yield return C("nested in class named like the network", $"public partial class Outer {{ {Tiny} public partial class Outer2; }}", HostileCase.Compiles, "Outer.Outer2.InputSize");
        yield return C("private nested", $"public partial class Outer {{ {Tiny} private partial class Net; public static int N => Net.InputSize; }}", HostileCase.Compiles, "Outer.N");
        yield return C("protected nested", $"public partial class Outer {{ {Tiny} protected partial class Net; }}", HostileCase.Compiles, null);
        yield return C("private protected nested", $"public partial class Outer {{ {Tiny} private protected partial class Net; }}", HostileCase.Compiles, null);
        yield return C("two networks in one class", $"public partial class Outer {{ {Tiny} public partial class A; {Tiny} public partial class B; }}", HostileCase.Compiles, "Outer.A.InputSize + Outer.B.InputSize");
        yield return C("network in a network", $"{Tiny} public partial class Net {{ {Tiny} public partial class Inner; }}", HostileCase.Compiles, "Net.Inner.InputSize");
        yield return Raw("global namespace", $"using CnnGen; {Tiny} public partial class GlobalNet; file static class U {{ public static int N => GlobalNet.InputSize; }}", HostileCase.Compiles);
        yield return Raw("deep namespace", $"using CnnGen; namespace A.B.C.D.E.F.G.H {{ {Tiny} public partial class Net; file static class U {{ public static int N => Net.InputSize; }} }}", HostileCase.Compiles);
        yield return Raw("keyword namespace", $"using CnnGen; namespace @class.@int {{ {Tiny} public partial class Net; file static class U {{ public static int N => Net.InputSize; }} }}", HostileCase.Compiles);
        yield return Raw("nested namespaces", $"using CnnGen; namespace A {{ namespace B {{ {Tiny} public partial class Net; file static class U {{ public static int N => Net.InputSize; }} }} }}", HostileCase.Compiles);
        yield return Raw("namespace named like the class", $"using CnnGen; namespace Net {{ {Tiny} public partial class Net; file static class U {{ public static int N => Net.InputSize; }} }}", HostileCase.Compiles);
        yield return Raw("same class in two namespaces", $"using CnnGen; namespace A {{ {Tiny} public partial class Net; }} namespace B {{ {Tiny} public partial class Net; }} file static class U {{ public static int N => A.Net.InputSize + B.Net.InputSize; }}", HostileCase.Compiles);
    }

    // ---- sizes that overflow ----------------------------------------------------------------------------------------

    public static IEnumerable<HostileCase> Sizes()
    {
        string branches = string.Concat(Enumerable.Range(0, 9).Select(i => $"[ReLU(From = \"input\", Name = \"b{i}\")]"));
        string sum = string.Join(", ", Enumerable.Range(0, 9).Select(i => $"\"b{i}\""));
        yield return C("Stride = int.MaxValue", "[Network, Input(2, 8, 8), Conv2D(4, 3, Stride = int.MaxValue), Flatten, Dense(2)] public partial class Net;", HostileCase.Compiles);
        yield return C("pool Stride = int.MaxValue", "[Network, Input(2, 8, 8), MaxPool2D(2, Stride = int.MaxValue), AvgPool2D(1, Stride = int.MaxValue), Flatten, Dense(2)] public partial class Net;", HostileCase.Compiles);
        yield return C("Dense(200000) after 64x64x64", "[Network, Input(64, 64, 64), Flatten, Dense(200000)] public partial class Net;", "CNN0018");
        yield return C("Dense(int.MaxValue)", "[Network, Input(1, 2, 2), Flatten, Dense(int.MaxValue)] public partial class Net;", "CNN0018");
        yield return C("nine 16x4096x4096 branches into one Add", $"[Network, Input(16, 4096, 4096)]{branches}[Add({sum})] public partial class Net;", "CNN0018");
        yield return C("Padding = int.MaxValue", "[Network, Input(1, 8, 8), Conv2D(2, 3, Padding = int.MaxValue)] public partial class Net;", "CNN0018");
        yield return C("PadTop = int.MaxValue", "[Network, Input(1, 8, 8), Conv2D(2, 3, PadTop = int.MaxValue, PadBottom = int.MaxValue)] public partial class Net;", "CNN0018");
        yield return C("Dilation = int.MaxValue", "[Network, Input(1, 8, 8), Conv2D(2, 3, Dilation = int.MaxValue)] public partial class Net;", "CNN0005");
        yield return C("Dilation = int.MaxValue, same", "[Network, Input(1, 8, 8), Conv2D(2, 3, Dilation = int.MaxValue, PaddingMode = PaddingMode.Same)] public partial class Net;", "CNN0018");
        yield return C("kernel int.MaxValue, same", "[Network, Input(1, 8, 8), Conv2D(2, int.MaxValue, PaddingMode = PaddingMode.Same)] public partial class Net;", "CNN0018");
        yield return C("Dilation on a 1x1 kernel", "[Network, Input(1, 8, 8), Conv2D(2, 1, Dilation = int.MaxValue), MaxPool2D(1, Dilation = int.MaxValue)] public partial class Net;", HostileCase.Compiles);
        yield return C("Filters = int.MaxValue", "[Network, Input(1, 8, 8), Conv2D(int.MaxValue, 3)] public partial class Net;", "CNN0018");
        yield return C("Groups = int.MaxValue", "[Network, Input(1, 8, 8), Conv2D(4, 3, Groups = int.MaxValue)] public partial class Net;", "CNN0013");
        yield return C("Input(int.MaxValue x3)", "[Network, Input(int.MaxValue, int.MaxValue, int.MaxValue), Flatten, Dense(2)] public partial class Net;", "CNN0018");
        yield return C("Input(1, 16384, 16384) padded to 16 lanes", "[Network, Input(1, 16384, 16384), Conv2D(1, 1)] public partial class Net;", "CNN0018");
        yield return C("Input(1, 1, 2^28) into a convolution", "[Network, Input(1, 1, 268435456), Conv2D(1, 1)] public partial class Net;", "CNN0018");
        yield return C("Dense(1) after 2^28 features", "[Network, Input(1, 1, 268435456), Flatten, Dense(1)] public partial class Net;", "CNN0018");
        yield return C("huge weights", "[Network, Input(4096, 8, 8), Conv2D(4096, 8, 8, Padding = 4)] public partial class Net;", "CNN0018");
        yield return C("Concat channel overflow", "[Network, Input(134217728, 1, 1)][Concat(\"input\", \"input\", \"input\", \"input\", \"input\", \"input\", \"input\", \"input\", \"input\", \"input\", \"input\", \"input\", \"input\", \"input\", \"input\", \"input\", \"input\")] public partial class Net;", "CNN0018");
        yield return C("pool window int.MaxValue", "[Network, Input(1, 8, 8), MaxPool2D(int.MaxValue, Padding = int.MaxValue)] public partial class Net;");
        yield return C("pool padding at the limit", "[Network, Input(1, 8, 8), AvgPool2D(int.MaxValue, Padding = 1073741823)] public partial class Net;");
        yield return C("ceil mode with huge stride", "[Network, Input(1, 9, 9), MaxPool2D(2, Stride = int.MaxValue, CeilMode = true), Flatten, Dense(2)] public partial class Net;", HostileCase.Compiles);
        yield return C("a wide but valid network", "[Network, Input(3, 256, 256), Conv2D(64, 3, Padding = 1), Conv2D(64, 3, Padding = 1), MaxPool2D(2), Flatten, Dense(10)] public partial class Net;", HostileCase.Compiles);
    }

    // ---- enums and floats -------------------------------------------------------------------------------------------

    public static IEnumerable<HostileCase> Enums()
    {
        yield return C("(Activation)99", "[Network, Input(1, 8, 8), Conv2D(2, 3, Activation = (Activation)99)] public partial class Net;", "CNN0019");
        yield return C("(Activation)(-1)", "[Network, Input(1, 8, 8), Flatten, Dense(2, Activation = (Activation)(-1))] public partial class Net;", "CNN0019");
        yield return C("(Activation)int.MinValue on BatchNorm2D", "[Network, Input(1, 8, 8), BatchNorm2D(Activation = (Activation)int.MinValue)] public partial class Net;", "CNN0019");
        yield return C("(Activation)8 on Add", "[Network, Input(1, 8, 8), ReLU, Add(\"relu1\", \"input\", Activation = (Activation)8)] public partial class Net;", "CNN0019");
        yield return C("(PaddingMode)7", "[Network, Input(1, 8, 8), Conv2D(2, 3, PaddingMode = (PaddingMode)7)] public partial class Net;", "CNN0019");
        yield return C("(PaddingMode)(-1)", "[Network, Input(1, 8, 8), Conv2D(2, 3, PaddingMode = (PaddingMode)(-1))] public partial class Net;", "CNN0019");
        yield return C("PaddingMode.Valid with Padding", "[Network, Input(1, 8, 8), Conv2D(2, 3, PaddingMode = PaddingMode.Valid, Padding = 1)] public partial class Net;");
        yield return C("two bad enums on two layers", "[Network, Input(1, 8, 8), Conv2D(2, 3, PaddingMode = (PaddingMode)7), Conv2D(2, 3, Activation = (Activation)99)] public partial class Net;", "CNN0019");
        foreach (string f in new[] { "float.NaN", "float.PositiveInfinity", "float.NegativeInfinity", "-0f", "float.MaxValue", "float.MinValue", "float.Epsilon", "-1f", "2f" })
        {
            yield return C("Alpha = " + f, $"[Network, Input(1, 8, 8), Conv2D(2, 3, Activation = Activation.LeakyRelu, Alpha = {f}), LeakyReLU({f}), BatchNorm2D(Alpha = {f}, Activation = Activation.LeakyRelu), Flatten, Dense(2, Activation = Activation.LeakyRelu, Alpha = {f})] public partial class Net;");
            yield return C("Eps = " + f, $"[Network, Input(1, 8, 8), Conv2D(2, 3), BatchNorm2D(Eps = {f}), BatchNorm2D(Eps = {f})] public partial class Net;");
            yield return C("Dropout(" + f + ")", $"[Network, Input(1, 8, 8), Flatten, Dropout({f}), Dense(2)] public partial class Net;");
        }
    }

    public static IEnumerable<HostileCase> All() => Merges().Concat(Names()).Concat(ClassKinds()).Concat(Nesting()).Concat(Sizes()).Concat(Enums());

    [Test]
    public void Hostile_declarations_compile_or_get_a_CnnGen_error()
    {
        var cases = All().ToList();
        Assert.That(cases.Select(c => c.Name), Is.Unique);
        var failures = HostileHarness.Check(cases, out var outcome);
        HostileHarness.Log(outcome);
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }
}
