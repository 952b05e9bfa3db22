using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Emporium.Platform.Http;

/// <summary>
/// JSON merge patch (RFC 7396) onto a request record: the resource as its own PUT body, with the members the patch names
/// replaced, so a PATCH then runs the PUT path and obeys every one of its rules. A null member takes PUT's meaning of an
/// absent one, except for the members named not nullable, where it is a field error. Members the request does not have
/// (read-only or unknown ones) are ignored, as PUT ignores them; names match in any letter case, as PUT's do.
/// </summary>
public static class MergePatch
{
    private static readonly JsonSerializerOptions Json = CreateJson();

    /// <summary>
    /// <paramref name="current"/> with <paramref name="patch"/> applied; when a member is refused (wrong type, a null that is
    /// not allowed, a patch that is not an object) the reason goes to <paramref name="errors"/> and the result is not to be used.
    /// </summary>
    public static TRequest Apply<TRequest>(TRequest current, JsonElement patch, ValidationErrors errors, params ReadOnlySpan<string> notNullable)
        where TRequest : class
    {
        if (patch.ValueKind != JsonValueKind.Object)
        {
            errors.Add("body", "A JSON merge patch (RFC 7396) object is expected, e.g. {\"name\": \"New name\"}.");
            return current;
        }

        var shape = Json.GetTypeInfo(typeof(TRequest));
        var merged = JsonSerializer.SerializeToNode(current, shape)!.AsObject();
        foreach (var member in patch.EnumerateObject())
        {
            // {"Name": ...} was a 200 that changed nothing, while PUT (the web defaults: names in any case) took it.
            if (shape.Properties.FirstOrDefault(p => string.Equals(p.Name, member.Name, StringComparison.OrdinalIgnoreCase)) is not { } property)
            {
                continue;
            }

            var name = property.Name;
            if (member.Value.ValueKind == JsonValueKind.Null)
            {
                if (notNullable.Contains(name))
                {
                    errors.Add(name, $"{name} cannot be null (omit it to keep the current value).");
                }

                merged[name] = null;
                continue;
            }

            try
            {
                _ = member.Value.Deserialize(property.PropertyType, Json);
                merged[name] = JsonNode.Parse(member.Value.GetRawText());
            }
            catch (JsonException invalid)
            {
                errors.Add(name, $"{name} has the wrong type: {invalid.Message}");
            }
        }

        return errors.IsEmpty ? merged.Deserialize<TRequest>(Json)! : current;
    }

    /// <summary>True when the patch sets <paramref name="member"/> to null: for a slug, "derive a new one".</summary>
    public static bool Clears(JsonElement patch, string member) =>
        patch.ValueKind == JsonValueKind.Object && patch.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.Null;

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        PlatformExtensions.ConfigureJson(options);
        options.MakeReadOnly();
        return options;
    }
}
