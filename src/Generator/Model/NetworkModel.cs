using CnnGen.Generator.Planning;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Model;

/// <summary>What the emitter receives: the shaped network, what every width shares, and one plan per vector width.</summary>
internal sealed record NetworkModel
{
    public required ShapedNetwork Net { get; init; }

    /// <summary>The width-independent part of the plan: what the class shell is written from.</summary>
    public required CommonPlan Common { get; init; }

    /// <summary>One plan per vector width, Vector256 first.</summary>
    public required EquatableArray<NetworkPlan> Plans { get; init; }

    /// <summary>A short hash of the declaration (<see cref="SpecHash"/>), written in each file's header.</summary>
    public required string SpecHash { get; init; }

    /// <summary>The trainer's plan (<c>[Network(Trainable = true)]</c>), or null: no training code is generated.</summary>
    public TrainingModel? Training { get; init; }
}

/// <summary>What the pipeline's transform returns: a model (null when invalid) and the diagnostics.</summary>
internal sealed record GenerationResult(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);
