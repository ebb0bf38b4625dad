using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace CnnGen.Tests.Zoo;

/// <summary>One method body of a compiled assembly: its declaring type (nested types as <c>Outer.Inner</c>), name and IL size.</summary>
/// <param name="Type">The declaring type's name, namespace left out.</param>
/// <param name="Method">The method's name.</param>
/// <param name="Bytes">The IL body's size in bytes (header included, as the JIT's limits count it).</param>
public sealed record MethodBody(string Type, string Method, int Bytes);

/// <summary>Reads the IL body sizes of a compiled assembly (the JIT stops optimizing methods over ~60 KB of IL).</summary>
public static class ILSizes
{
    /// <summary>The IL limit the issue sets for any generated method.</summary>
    public const int JitLimitBytes = 60 * 1024;

    /// <summary>Every method with a body in the PE image at <paramref name="path"/>.</summary>
    public static IReadOnlyList<MethodBody> Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream);
    }

    /// <summary>Every method with a body in a PE image.</summary>
    public static IReadOnlyList<MethodBody> Read(Stream image)
    {
        using var pe = new PEReader(image, PEStreamOptions.LeaveOpen);
        var md = pe.GetMetadataReader();
        var bodies = new List<MethodBody>();
        foreach (var handle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(handle);
            string name = TypeName(md, type);
            foreach (var methodHandle in type.GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress != 0)
                {
                    bodies.Add(new MethodBody(name, md.GetString(method.Name), pe.GetMethodBody(method.RelativeVirtualAddress).Size));
                }
            }
        }

        return bodies;
    }

    /// <summary>The methods of a network class and its nested kernel classes, grouped by type.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<MethodBody>> OfNetwork(IEnumerable<MethodBody> bodies, string network) =>
        bodies.Where(b => b.Type == network || b.Type.StartsWith(network + ".", StringComparison.Ordinal))
            .GroupBy(b => b.Type)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<MethodBody>)g.ToList());

    private static string TypeName(MetadataReader md, TypeDefinition type)
    {
        string name = md.GetString(type.Name);
        var declaring = type.GetDeclaringType();
        return declaring.IsNil ? name : TypeName(md, md.GetTypeDefinition(declaring)) + "." + name;
    }
}
