namespace CnnGen;

/// <summary>
/// The element types of the safetensors format that CnnGen reads, named as in a safetensors header. The floating-point
/// types are network parameters; the integer and boolean types (batch norm's <c>num_batches_tracked</c>, masks, indices)
/// are read so a whole PyTorch <c>state_dict</c> loads, but no layer takes its parameters from them.
/// </summary>
public enum TensorDType
{
    /// <summary>32-bit IEEE float (<c>torch.float32</c>).</summary>
    F32,

    /// <summary>16-bit IEEE float (<c>torch.float16</c>).</summary>
    F16,

    /// <summary>bfloat16: the upper 16 bits of a float32 (<c>torch.bfloat16</c>).</summary>
    BF16,

    /// <summary>64-bit IEEE float (<c>torch.float64</c>); values beyond the float32 range become infinities.</summary>
    F64,

    /// <summary>Signed 8-bit integer (<c>torch.int8</c>).</summary>
    I8,

    /// <summary>Signed 16-bit integer (<c>torch.int16</c>).</summary>
    I16,

    /// <summary>Signed 32-bit integer (<c>torch.int32</c>).</summary>
    I32,

    /// <summary>Signed 64-bit integer (<c>torch.int64</c>, e.g. <c>num_batches_tracked</c>).</summary>
    I64,

    /// <summary>Unsigned 8-bit integer (<c>torch.uint8</c>).</summary>
    U8,

    /// <summary>Unsigned 16-bit integer.</summary>
    U16,

    /// <summary>Unsigned 32-bit integer.</summary>
    U32,

    /// <summary>Unsigned 64-bit integer.</summary>
    U64,

    /// <summary>Boolean, one byte holding 0 or 1 (<c>torch.bool</c>).</summary>
    Bool,
}
