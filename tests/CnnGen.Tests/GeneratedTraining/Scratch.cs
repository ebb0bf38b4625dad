using System.IO;
using CnnGen.Tests.Generator;

namespace CnnGen.Tests.GeneratedTraining;

[Explicit]
public sealed class Scratch
{
    [Test]
    public void Dump()
    {
        string src = "using CnnGen;\nnamespace S;\n[Network(Trainable = true), Input(1, 28, 28), Flatten]\n[Dense(128, Activation = Activation.Relu), Dense(64, Activation = Activation.Relu), Dense(10), Softmax]\npublic partial class Mlp;\n"
            + "[Network(Trainable = true), Input(1, 28, 28)]\n[Conv2D(6, 5, Padding = 2, Activation = Activation.Relu), MaxPool2D(2)]\n[Conv2D(16, 5, Activation = Activation.Relu), MaxPool2D(2), Flatten]\n[Dense(120, Activation = Activation.Relu), Dense(84, Activation = Activation.Relu), Dense(10, Activation = Activation.Softmax)]\npublic partial class LeNet5;\n";
        var result = GeneratorHarness.Run(src);
        Directory.CreateDirectory("/tmp/gen");
        foreach (var f in result.Files)
        {
            File.WriteAllText(Path.Combine("/tmp/gen", f.Key), f.Value);
        }

        foreach (var d in result.GeneratorDiagnostics)
        {
            TestContext.Out.WriteLine(d.ToString());
        }

        foreach (var d in result.Output.GetDiagnostics())
        {
            if (d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error)
            {
                TestContext.Out.WriteLine(d.ToString());
            }
        }
    }
}
