using System.IO;
using System.Linq;
using CnnGen.Tests.Generator;

namespace CnnGen.Tests.GeneratedTraining;

[Explicit]
public sealed class Scratch
{
    [Test]
    public void Coverage()
    {
        string[] kinds = { "Conv2D(", "MaxPool2D(", "AvgPool2D(", "BatchNorm2D(", "Add(", "Concat(", "Dense(", "Softmax", "ReLU6", "SiLU", "Sigmoid", "Tanh", "LeakyReLU(", "Groups = 2", "GlobalAvgPool2D", "GlobalMaxPool2D", "CeilMode = true", "CountIncludePad = false", "DilationHeight = 2", "Groups = 3", "Activation.SiLU", "Activation.LeakyRelu" };
        for (int start = 9100; start < 9600; start += 4)
        {
            var nets = Enumerable.Range(start, 12).Select(s => RandomNetwork.Create(s, graphs: true)).ToArray();
            string all = string.Join("\n", nets.Select(n => n.Declaration));
            var missing = kinds.Where(k => !all.Contains(k)).ToList();
            TestContext.Out.WriteLine($"{start}: missing {missing.Count} {string.Join(",", missing)}");
        }
    }
}
