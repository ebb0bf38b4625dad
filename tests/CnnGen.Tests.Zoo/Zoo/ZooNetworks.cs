using System;
using System.Collections.Generic;
using System.Linq;

namespace CnnGen.Tests.Zoo;

/// <summary>A zoo model declared with attributes: its fixture folder, generated type and the generated members the tests use.</summary>
/// <param name="Model">The folder name under tests/fixtures/zoo.</param>
/// <param name="Type">The generated network class.</param>
/// <param name="Load">The generated <c>Load(TensorSet, LoadOptions?)</c>.</param>
/// <param name="Summary">The generated Keras-style summary.</param>
/// <param name="ParameterCount">The generated parameter count.</param>
/// <param name="WorkspaceFloats">The generated per-thread workspace size.</param>
/// <param name="SourceFile">The declaration's file name in this project.</param>
public sealed record ZooNetwork(
    string Model,
    Type Type,
    Func<TensorSet, LoadOptions?, INetwork> Load,
    string Summary,
    long ParameterCount,
    int WorkspaceFloats,
    string SourceFile)
{
    /// <inheritdoc/>
    public override string ToString() => Model;
}

/// <summary>The six zoo models, declared with attributes.</summary>
public static class ZooNetworks
{
    /// <summary>Every declared zoo network, smallest first.</summary>
    public static readonly IReadOnlyList<ZooNetwork> All =
    [
        new("efficientnet_b0", typeof(EfficientNetB0), (t, o) => EfficientNetB0.Load(t, o), EfficientNetB0.Summary, EfficientNetB0.ParameterCount, EfficientNetB0.WorkspaceFloats, "EfficientNetB0.cs"),
        new("mobilenet_v2", typeof(MobileNetV2), (t, o) => MobileNetV2.Load(t, o), MobileNetV2.Summary, MobileNetV2.ParameterCount, MobileNetV2.WorkspaceFloats, "MobileNetV2.cs"),
        new("resnet18", typeof(ResNet18), (t, o) => ResNet18.Load(t, o), ResNet18.Summary, ResNet18.ParameterCount, ResNet18.WorkspaceFloats, "ResNet18.cs"),
        new("resnet50", typeof(ResNet50), (t, o) => ResNet50.Load(t, o), ResNet50.Summary, ResNet50.ParameterCount, ResNet50.WorkspaceFloats, "ResNet50.cs"),
        new("alexnet", typeof(AlexNet), (t, o) => AlexNet.Load(t, o), AlexNet.Summary, AlexNet.ParameterCount, AlexNet.WorkspaceFloats, "AlexNet.cs"),
        new("vgg16", typeof(Vgg16), (t, o) => Vgg16.Load(t, o), Vgg16.Summary, Vgg16.ParameterCount, Vgg16.WorkspaceFloats, "Vgg16.cs"),
    ];

    /// <summary>The declared network of a zoo folder.</summary>
    public static ZooNetwork Get(string model) =>
        All.FirstOrDefault(n => n.Model == model)
        ?? throw new ArgumentException($"'{model}' is not declared; declared: {string.Join(", ", All.Select(n => n.Model))}.", nameof(model));
}
