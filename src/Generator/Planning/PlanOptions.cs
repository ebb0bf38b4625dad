namespace CnnGen.Generator.Planning;

/// <summary>
/// What the planner may do to a network. <see cref="Inference"/> (every fusion and reuse on) is what the generator
/// uses; a training plan switches fusions off so every layer's output exists for the backward pass, and keeps
/// every tensor in its own slot. Each pass reads the options it depends on and nothing else.
/// </summary>
internal sealed record PlanOptions
{
    /// <summary>Fold a batch norm that directly follows a convolution into its weights and bias at load.</summary>
    public bool FoldBatchNorm { get; init; } = true;

    /// <summary>Apply an activation in its producer's store instead of a step of its own.</summary>
    public bool FuseActivations { get; init; } = true;

    /// <summary>Do a two-input Add in the store of a convolution producing one operand.</summary>
    public bool FuseResidualAdds { get; init; } = true;

    /// <summary>Run a depthwise convolution row by row inside the following 1x1 convolution.</summary>
    public bool FuseDepthwiseRows { get; init; } = true;

    /// <summary>Let a convolution producing the network output write NCHW itself instead of a separate copy.</summary>
    public bool DirectOutput { get; init; } = true;

    /// <summary>
    /// Run a row-fused depthwise + pointwise pair that reads the network input and writes the network output over planar
    /// rows (vectors of pixels: no transposes at either edge) where the row fills the vectors well.
    /// </summary>
    public bool PlanarPairs { get; init; } = true;

    /// <summary>Vectorize a first convolution with few filters over output pixels instead of filters.</summary>
    public bool PixelFirstLayer { get; init; } = true;

    /// <summary>Compute a 2x2 max pool after a pixel-vectorized convolution in its registers.</summary>
    public bool FusePixelPool { get; init; } = true;

    /// <summary>Place tensors with disjoint lifetimes in the same workspace slot.</summary>
    public bool ReuseSlots { get; init; } = true;

    /// <summary>Run dense-dominated networks a group of images at a time in batches.</summary>
    public bool GroupBatches { get; init; } = true;

    /// <summary>Let steps whose kernels differ only in names (same shapes, options, tiles and fusions) call one kernel.</summary>
    public bool ShareKernels { get; init; } = true;

    /// <summary>
    /// Compute 3x3 stride-1 convolutions with Winograd F(2x2, 3x3) where the cost model says it is faster (fewer
    /// multiplies, results within float32 rounding of the direct kernel's but not bit-identical to them).
    /// <c>[Network(Winograd = false)]</c> turns it off for a network.
    /// </summary>
    public bool Winograd { get; init; } = true;

    /// <summary>
    /// Split large steps' output rows (dense layers' output tiles) between the threads of a prediction on several
    /// threads (<see cref="Passes.Splitting"/>); their kernels then take the range of rows to compute.
    /// </summary>
    public bool SplitSteps { get; init; } = true;

    /// <summary>
    /// Plan a trainer's forward pass: Dropout with p &gt; 0 is a step of its own (a mask in training, a copy in evaluation),
    /// and an activation whose derivative needs its input (SiLU, LeakyReLU with a negative slope) is a step of its own
    /// instead of being applied in its producer's store (the other activations' derivatives come from their output).
    /// </summary>
    public bool Training { get; init; }

    /// <summary>The generator's plan: every fusion, reuse and grouping on.</summary>
    public static PlanOptions Inference { get; } = new();

    /// <summary>
    /// A trainer's plan: no batch-norm folding (batch norm runs with batch statistics), no first-layer pixel kernels, row
    /// fusion, direct output, batch groups, Winograd convolutions (the backward kernels read direct convolutions' layouts) or split steps, and every tensor in its own slot (the backward pass reads them). Activations
    /// whose derivative comes from their output, and residual adds, stay fused. Each step keeps its own kernel (no sharing):
    /// the trainer's drivers call the forward kernels by their steps' names.
    /// </summary>
    public static PlanOptions Trainer { get; } = new()
    {
        ShareKernels = false,
        FoldBatchNorm = false,
        FuseDepthwiseRows = false,
        DirectOutput = false,
        PlanarPairs = false,
        PixelFirstLayer = false,
        FusePixelPool = false,
        ReuseSlots = false,
        GroupBatches = false,
        Winograd = false,
        SplitSteps = false,
        Training = true,
    };

    /// <summary>Nothing fused, folded, grouped or shared: every layer's output is its own tensor for its whole life.</summary>
    public static PlanOptions Unfused { get; } = new()
    {
        FoldBatchNorm = false,
        FuseActivations = false,
        FuseResidualAdds = false,
        FuseDepthwiseRows = false,
        DirectOutput = false,
        PlanarPairs = false,
        PixelFirstLayer = false,
        FusePixelPool = false,
        ReuseSlots = false,
        GroupBatches = false,
        ShareKernels = false,
    };
}
