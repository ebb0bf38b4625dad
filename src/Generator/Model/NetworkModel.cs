using CnnGen.Generator.Planning;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Model;

/// <summary>What the emitter receives: the shaped network and one plan per vector width.</summary>
internal sealed record NetworkModel(ShapedNetwork Net, EquatableArray<NetworkPlan> Plans, string SpecHash);

/// <summary>What the pipeline's transform returns: a model (null when invalid) and the diagnostics.</summary>
internal sealed record GenerationResult(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);
