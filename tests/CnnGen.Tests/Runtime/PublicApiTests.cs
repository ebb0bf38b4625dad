using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace CnnGen.Tests.Runtime;

/// <summary>
/// The runtime assembly's public API (types and members, sorted) against the committed <c>PublicApi.verified.txt</c>, so every
/// change to it is deliberate. On a difference the test writes <c>PublicApi.received.txt</c> beside it and fails with both
/// sides' extra lines; set <c>CNNGEN_ACCEPT_PUBLIC_API=1</c> to accept the new API.
/// </summary>
public sealed class PublicApiTests
{
    private static readonly NullabilityInfoContext Nullability = new();

    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    [Test]
    public void The_runtime_public_API_is_the_committed_one()
    {
        string actual = Describe(typeof(TensorSet).Assembly);
        string verified = Path.Combine(Here(), "PublicApi.verified.txt");
        string received = Path.Combine(Here(), "PublicApi.received.txt");
        if (Environment.GetEnvironmentVariable("CNNGEN_ACCEPT_PUBLIC_API") == "1")
        {
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }

        string expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : string.Empty;
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual);
        var before = expected.Split('\n').ToHashSet(StringComparer.Ordinal);
        var after = actual.Split('\n').ToHashSet(StringComparer.Ordinal);
        Assert.Fail($"the public API of CnnGen.Runtime changed (see {received}; accept with CNNGEN_ACCEPT_PUBLIC_API=1):\n"
            + string.Concat(before.Except(after).Select(l => "- " + l + "\n"))
            + string.Concat(after.Except(before).Select(l => "+ " + l + "\n")));
    }

    [Test]
    public void Internal_helpers_for_generated_code_are_hidden_from_IntelliSense()
    {
        var internals = typeof(TensorSet).Assembly.GetExportedTypes().Where(t => t.Namespace == "CnnGen.Internal").ToList();
        Assert.That(internals, Is.Not.Empty);
        foreach (Type type in internals)
        {
            Assert.That(type.GetCustomAttribute<EditorBrowsableAttribute>()?.State, Is.EqualTo(EditorBrowsableState.Never), type.FullName);
        }
    }

    private static string Here([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    /// <summary>One line per public type (sorted by name) and per visible member (sorted by name, then signature), indented under its type.</summary>
    internal static string Describe(Assembly assembly)
    {
        var sb = new StringBuilder();
        foreach (Type type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            sb.Append(TypeLine(type)).Append('\n');
            foreach (var (_, line) in Members(type).OrderBy(m => m.Name, StringComparer.Ordinal).ThenBy(m => m.Line, StringComparer.Ordinal))
            {
                sb.Append("  ").Append(line).Append('\n');
            }
        }

        return sb.ToString();
    }

    private static string TypeLine(Type type)
    {
        string kind = type.IsEnum ? "enum" : type.IsInterface ? "interface" : type.IsValueType ? "struct"
            : typeof(Delegate).IsAssignableFrom(type) ? "delegate"
            : type.IsAbstract && type.IsSealed ? "static class" : type.IsSealed ? "sealed class" : type.IsAbstract ? "abstract class" : "class";
        var bases = new List<string>();
        if (type.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum))
        {
            bases.Add(Name(b));
        }

        if (!type.IsEnum)
        {
            bases.AddRange(type.GetInterfaces().Where(i => i.Namespace != "System.Runtime.Serialization").Select(Name).Order(StringComparer.Ordinal));
        }
        string hidden = type.GetCustomAttribute<EditorBrowsableAttribute>()?.State == EditorBrowsableState.Never ? " [EditorBrowsable(Never)]" : string.Empty;
        return $"{kind} {Name(type)}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : string.Empty)}{hidden}";
    }

    private static IEnumerable<(string Name, string Line)> Members(Type type)
    {
        static bool Visible(MethodBase? m) => m is not null && (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly);

        foreach (FieldInfo f in type.GetFields(Declared).Where(f => f.IsPublic || f.IsFamily))
        {
            if (type.IsEnum)
            {
                if (f.IsStatic)
                {
                    long number = Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture);
                    yield return (unchecked((ulong)number + 0x8000_0000_0000_0000UL).ToString("D20", System.Globalization.CultureInfo.InvariantCulture), $"{f.Name} = {number}"); // enum members by value
                }

                continue;
            }

            string modifiers = f.IsLiteral ? "const " : (f.IsStatic ? "static " : string.Empty) + (f.IsInitOnly ? "readonly " : string.Empty);
            string value = f.IsLiteral ? " = " + Convert.ToString(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture) : string.Empty;
            yield return (f.Name, $"{modifiers}{Name(f.FieldType)}{Q(Nullability.Create(f))} {f.Name}{value}");
        }

        foreach (ConstructorInfo c in type.GetConstructors(Declared).Where(c => Visible(c)))
        {
            yield return (".ctor", $"{(c.IsStatic ? "static " : string.Empty)}ctor({Parameters(c)})");
        }

        foreach (PropertyInfo p in type.GetProperties(Declared))
        {
            MethodInfo? get = p.GetMethod, set = p.SetMethod;
            if (!Visible(get) && !Visible(set))
            {
                continue;
            }

            bool init = set?.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.FullName == "System.Runtime.CompilerServices.IsExternalInit") == true;
            string accessors = (Visible(get) ? "get; " : string.Empty) + (Visible(set) ? (init ? "init; " : "set; ") : string.Empty);
            string indexer = p.GetIndexParameters().Length > 0 ? $"this[{Parameters(p.GetIndexParameters())}]" : p.Name;
            yield return (p.Name, $"{((get ?? set)!.IsStatic ? "static " : string.Empty)}{Name(p.PropertyType)}{Q(Nullability.Create(p))} {indexer} {{ {accessors}}}");
        }

        foreach (MethodInfo m in type.GetMethods(Declared).Where(m => Visible(m) && !m.IsSpecialName))
        {
            if (type.IsEnum || (type.IsValueType && m.Name is "Equals" or "GetHashCode" or "ToString" && m.GetBaseDefinition().DeclaringType != type))
            {
                continue;
            }

            string modifiers = (m.IsStatic ? "static " : string.Empty) + (m.IsAbstract && !type.IsInterface ? "abstract " : m.IsVirtual && !m.IsFinal && !type.IsInterface ? (m.GetBaseDefinition() == m ? "virtual " : "override ") : string.Empty);
            string generic = m.IsGenericMethod ? "<" + string.Join(", ", m.GetGenericArguments().Select(Name)) + ">" : string.Empty;
            yield return (m.Name, $"{modifiers}{Name(m.ReturnType)}{Q(Nullability.Create(m.ReturnParameter))} {m.Name}{generic}({Parameters(m)})");
        }

        foreach (Type nested in type.GetNestedTypes(BindingFlags.Public))
        {
            yield return (nested.Name, "nested " + TypeLine(nested));
        }
    }

    private static string Parameters(MethodBase method) => Parameters(method.GetParameters());

    private static string Parameters(ParameterInfo[] parameters) => string.Join(", ", parameters.Select(p =>
    {
        string prefix = p.IsOut ? "out " : p.ParameterType.IsByRef ? (p.IsIn ? "in " : "ref ") : p.IsDefined(typeof(ParamArrayAttribute)) ? "params " : string.Empty;
        string value = p.HasDefaultValue ? " = " + (p.DefaultValue is null ? "null" : Convert.ToString(p.DefaultValue, System.Globalization.CultureInfo.InvariantCulture)) : string.Empty;
        return $"{prefix}{Name(p.ParameterType)}{Q(Nullability.Create(p))} {p.Name}{value}";
    }));

    /// <summary>"?" for a nullable reference (value types say so in their name: <c>int?</c>).</summary>
    private static string Q(NullabilityInfo info) =>
        !info.Type.IsValueType && (info.ReadState == NullabilityState.Nullable || info.WriteState == NullabilityState.Nullable) ? "?" : string.Empty;

    private static string Name(Type type)
    {
        if (type.IsByRef)
        {
            return Name(type.GetElementType()!);
        }

        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        }

        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Name(underlying) + "?";
        }

        string? alias = Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => "bool",
            TypeCode.Byte => "byte",
            TypeCode.Int16 => "short",
            TypeCode.Int32 when !type.IsEnum => "int",
            TypeCode.Int64 when !type.IsEnum => "long",
            TypeCode.Single => "float",
            TypeCode.Double => "double",
            TypeCode.String => "string",
            _ => type == typeof(void) ? "void" : type == typeof(object) ? "object" : null,
        };
        if (alias is not null)
        {
            return alias;
        }

        string name = type.IsNested ? Name(type.DeclaringType!) + "." + type.Name : (type.Namespace is "System" or "System.Collections.Generic" or "System.IO" or "System.Runtime.Intrinsics" ? type.Name : type.FullName ?? type.Name);
        if (!type.IsGenericType)
        {
            return name;
        }

        return name[..name.IndexOf('`', StringComparison.Ordinal)] + "<" + string.Join(", ", type.GetGenericArguments().Select(Name)) + ">";
    }
}
