using System;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace CnnGen.Bench;

/// <summary>Looks inside a generated network (by reflection) for facts that explain timings.</summary>
internal static class Diagnostics
{
    /// <summary>The address mod 64 of every float[] field of the network (weights) and of its thread's workspace.</summary>
    public static string Alignment(INetwork net)
    {
        var sb = new StringBuilder("  alignment (address mod 64):");
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public;
        foreach (var f in net.GetType().GetFields(all).Where(f => f.FieldType == typeof(float[])))
        {
            if (f.GetValue(f.IsStatic ? null : net) is float[] a && a.Length > 0)
            {
                var h = GCHandle.Alloc(a, GCHandleType.Pinned);
                long mod = h.AddrOfPinnedObject().ToInt64() % 64;
                h.Free();
                sb.Append(' ').Append(f.Name.TrimStart('_')).Append('=').Append(mod);
            }
        }

        return sb.ToString();
    }
}
