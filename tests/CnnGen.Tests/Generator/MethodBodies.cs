using System.Collections.Generic;
using System.IO;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using Microsoft.CodeAnalysis;

namespace CnnGen.Tests.Generator;

/// <summary>One compiled method: its type and name, IL size (header included) and local variable count.</summary>
public sealed record MethodBodySize(string Method, int Bytes, int Locals);

/// <summary>The method bodies of a compilation, for the JIT's limits (~60 KB of IL, ~1,000 locals per method).</summary>
public static class MethodBodies
{
    /// <summary>The JIT stops optimizing a method over this much IL.</summary>
    public const int JitLimitBytes = 60 * 1024;

    /// <summary>Emits <paramref name="compilation"/> and reads every method body from the image.</summary>
    public static IReadOnlyList<MethodBodySize> Of(Compilation compilation)
    {
        using var stream = new MemoryStream();
        var emit = compilation.Emit(stream);
        Assert.That(emit.Success, Is.True, () => string.Join("\n", emit.Diagnostics));
        stream.Position = 0;
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var bodies = new List<MethodBodySize>();
        foreach (var handle in md.MethodDefinitions)
        {
            var def = md.GetMethodDefinition(handle);
            if (def.RelativeVirtualAddress == 0)
            {
                continue;
            }

            var body = pe.GetMethodBody(def.RelativeVirtualAddress);
            int locals = 0;
            if (!body.LocalSignature.IsNil)
            {
                var blob = md.GetBlobReader(md.GetStandaloneSignature(body.LocalSignature).Signature);
                blob.ReadSignatureHeader();
                locals = blob.ReadCompressedInteger();
            }

            string type = md.GetString(md.GetTypeDefinition(def.GetDeclaringType()).Name);
            bodies.Add(new MethodBodySize(type + "." + md.GetString(def.Name), body.Size, locals));
        }

        return bodies;
    }
}
