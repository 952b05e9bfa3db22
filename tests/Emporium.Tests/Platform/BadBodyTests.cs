using System.Text.Json;
using Emporium.Features.Commerce.Orders;
using Emporium.Platform;
using Emporium.Platform.Problems;

namespace Emporium.Tests.Platform;

/// <summary>
/// The words a 400 uses for a body System.Text.Json could not read, for the types no endpoint's body holds today but a
/// new one may (the HTTP cases are in ClientMistakeTests).
/// </summary>
public sealed class BadBodyTests
{
    /// <summary>Read through its constructor, as positional records are: System.Text.Json's message then names the record.</summary>
    private sealed record Sample(OrderStatus? Status, DateTimeOffset? At, Guid? Id, IReadOnlyDictionary<string, int>? Tags, long? Count, IReadOnlyList<string>? Names);

    /// <summary>Read through its properties: the message names the property's type.</summary>
    private sealed record Settable
    {
        public OrderStatus? Status { get; init; }

        public IReadOnlyList<long>? Ids { get; init; }
    }

    [Theory]
    [InlineData("""{"status": "lost"}""", "status", "status must be one of \"pending\", \"paid\", \"fulfilled\", \"cancelled\".")]
    [InlineData("""{"at": "yesterday"}""", "at", "at must be a date and time in RFC 3339 form, such as \"2026-01-31T12:00:00Z\".")]
    [InlineData("""{"id": 7}""", "id", "id must be a UUID.")]
    [InlineData("""{"tags": [1]}""", "tags", "tags must be an object.")]
    [InlineData("""{"count": 1.5}""", "count", "count must be a whole number from -9223372036854775808 to 9223372036854775807.")]
    [InlineData("""{"names": "a"}""", "names", "names must be an array.")]
    [InlineData("""{"names": [1]}""", "names[0]", "names[0] must be a string.")]
    public void Names_what_a_constructor_parameter_takes_in_JSON_terms(string body, string field, string message) =>
        ShouldSay<Sample>(body, field, message);

    [Theory]
    [InlineData("""{"status": 1.5}""", "status", "status must be one of \"pending\", \"paid\", \"fulfilled\", \"cancelled\".")]
    [InlineData("""{"ids": {}}""", "ids", "ids must be an array.")]
    [InlineData("""{"ids": ["x"]}""", "ids[0]", "ids[0] must be a whole number from -9223372036854775808 to 9223372036854775807.")]
    public void Names_what_a_property_takes_in_JSON_terms(string body, string field, string message) =>
        ShouldSay<Settable>(body, field, message);

    private static void ShouldSay<T>(string body, string field, string message)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        PlatformExtensions.ConfigureJson(options);

        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<T>(body, options));
        var problem = ApiExceptionHandler.BadBody(error);

        problem.Detail.Should().Be(message, error.Message);
        ((Dictionary<string, string[]>)problem.Extensions["errors"]!)[field].Should().Equal(message);
    }
}
