using System.Reflection;
using System.Reflection.Emit;

namespace Emporium.Tests.Platform;

/// <summary>
/// Dependencies point one way (docs/architecture.md): features and platform code never name an Infrastructure type, and
/// Infrastructure uses only what features publish (their public types), never their internals. Read from the compiled
/// assembly: every type's signatures (base types, interfaces, fields, properties, parameters, returns, generic arguments)
/// and every type, field and method its IL refers to, compiler-generated types (lambdas, async state machines) included.
/// </summary>
public sealed class DependencyDirectionTests
{
    private const string Infrastructure = "Emporium.Infrastructure";

    private static readonly Assembly Service = typeof(Program).Assembly;

    [Fact]
    public void Features_and_platform_code_never_name_an_infrastructure_type()
    {
        var violations = Service.GetTypes()
            .Where(type => InNamespace(type, "Emporium.Features") || InNamespace(type, "Emporium.Platform") || InNamespace(type, "Emporium.Admin"))
            .SelectMany(type => References(type).Where(used => InNamespace(used, Infrastructure)).Select(used => $"{Name(type)} uses {Name(used)}"))
            .Distinct()
            .Order()
            .ToList();

        violations.Should().BeEmpty();
    }

    [Fact]
    public void Infrastructure_uses_only_what_features_publish()
    {
        var violations = Service.GetTypes()
            .Where(type => InNamespace(type, Infrastructure))
            .SelectMany(type => References(type)
                .Where(used => InNamespace(used, "Emporium.Features") && !IsPublished(used))
                .Select(used => $"{Name(type)} uses {Name(used)}"))
            .Distinct()
            .Order()
            .ToList();

        violations.Should().BeEmpty();
    }

    private static bool InNamespace(Type type, string prefix) =>
        type.Namespace is { } name && (name == prefix || name.StartsWith(prefix + ".", StringComparison.Ordinal));

    /// <summary>Public, and nested only in public types.</summary>
    private static bool IsPublished(Type type) => type.IsPublic || (type.IsNestedPublic && IsPublished(type.DeclaringType!));

    private static string Name(Type type) => type.FullName ?? type.Name;

    private static HashSet<Type> References(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? candidate)
        {
            if (candidate is null)
            {
                return;
            }

            if (candidate.HasElementType)
            {
                Add(candidate.GetElementType());
                return;
            }

            if (candidate.IsGenericType && !candidate.IsGenericTypeDefinition)
            {
                foreach (var argument in candidate.GetGenericArguments())
                {
                    Add(argument);
                }

                candidate = candidate.GetGenericTypeDefinition();
            }

            if (!candidate.IsGenericParameter)
            {
                found.Add(candidate);
            }
        }

        Add(type.BaseType);
        foreach (var implemented in type.GetInterfaces())
        {
            Add(implemented);
        }

        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var field in type.GetFields(all))
        {
            Add(field.FieldType);
        }

        foreach (var property in type.GetProperties(all))
        {
            Add(property.PropertyType);
        }

        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (method is MethodInfo info)
            {
                Add(info.ReturnType);
            }

            foreach (var parameter in method.GetParameters())
            {
                Add(parameter.ParameterType);
            }

            foreach (var used in Il.References(method))
            {
                Add(used);
            }
        }

        return found;
    }

    /// <summary>The types a method body names: in the tokens of its instructions (calls, fields, allocations, casts, typeof).</summary>
    private static class Il
    {
        private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(field => (OpCode)field.GetValue(null)!)
            .ToDictionary(code => code.Value);

        public static IEnumerable<Type> References(MethodBase method)
        {
            byte[]? il;
            try
            {
                il = method.GetMethodBody()?.GetILAsByteArray();
            }
            catch (BadImageFormatException)
            {
                il = null;
            }

            if (il is null)
            {
                yield break;
            }

            var module = method.Module;
            var typeArguments = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
            var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
            var position = 0;
            while (position < il.Length)
            {
                short value = il[position++];
                if (value == 0xFE)
                {
                    value = (short)(0xFE00 | il[position++]);
                }

                if (!OpCodesByValue.TryGetValue(value, out var code))
                {
                    yield break;
                }

                switch (code.OperandType)
                {
                    case OperandType.InlineNone:
                        break;
                    case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                        position += 1;
                        break;
                    case OperandType.InlineVar:
                        position += 2;
                        break;
                    case OperandType.InlineI8 or OperandType.InlineR:
                        position += 8;
                        break;
                    case OperandType.InlineSwitch:
                        var count = BitConverter.ToInt32(il, position);
                        position += 4 + (4 * count);
                        break;
                    case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                        var token = BitConverter.ToInt32(il, position);
                        position += 4;
                        MemberInfo? member;
                        try
                        {
                            member = module.ResolveMember(token, typeArguments, methodArguments);
                        }
                        catch (ArgumentException)
                        {
                            member = null;
                        }

                        switch (member)
                        {
                            case Type used:
                                yield return used;
                                break;
                            case MethodBase called:
                                if (called.DeclaringType is { } declaring)
                                {
                                    yield return declaring;
                                }

                                if (called is MethodInfo { IsGenericMethod: true } generic)
                                {
                                    foreach (var argument in generic.GetGenericArguments())
                                    {
                                        yield return argument;
                                    }
                                }

                                break;
                            case FieldInfo field when field.DeclaringType is { } owner:
                                yield return owner;
                                break;
                        }

                        break;
                    default:
                        position += 4;
                        break;
                }
            }
        }
    }
}
