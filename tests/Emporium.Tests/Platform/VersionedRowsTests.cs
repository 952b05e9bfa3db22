using System.Net;
using Emporium.Data;
using Emporium.Platform.Http;
using Emporium.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using ProblemResults = Emporium.Platform.Problems.Problems;

namespace Emporium.Tests.Platform;

/// <summary>A write that keeps finding its row changed under it: 412 only for a client that named a version.</summary>
public sealed class VersionedRowsTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Theory]
    [InlineData(null, 5)]
    [InlineData("\"p-1-1\"", 1)]
    public async Task A_write_overtaken_every_time_answers_412_only_to_If_Match_and_gives_up_otherwise(string? ifMatch, int runs)
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        var http = new DefaultHttpContext();
        if (ifMatch is not null)
        {
            http.Request.Headers.IfMatch = ifMatch;
        }

        var calls = 0;
        var write = () => VersionedRows.UnlessStaleAsync(http.Request, db, () =>
        {
            calls++;
            return Task.FromResult<Results<NoContent, ProblemHttpResult>>(ProblemResults.PreconditionFailed());
        });

        if (ifMatch is null)
        {
            await write.Should().ThrowAsync<ContendedRowException>("the client sent no precondition: a 412 would be a lie");
        }
        else
        {
            (await write()).Result.Should().BeOfType<ProblemHttpResult>().Which.StatusCode.Should().Be((int)HttpStatusCode.PreconditionFailed);
        }

        calls.Should().Be(runs);
    }
}

/// <summary>What the API answers for a request that lost a race the endpoint did not (or could not) run again.</summary>
public sealed class LostRaceAnswerTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    public static TheoryData<string> Races => ["contended row", "deadlock", "serialization failure"];

    [Theory]
    [MemberData(nameof(Races))]
    public async Task A_lost_race_is_a_503_with_Retry_After_and_a_problem_not_a_500(string race)
    {
        Exception exception = race switch
        {
            "contended row" => new ContendedRowException(),
            "deadlock" => new Microsoft.EntityFrameworkCore.DbUpdateException("save failed", new Npgsql.PostgresException("deadlock detected", "ERROR", "ERROR", "40P01")),
            _ => new Npgsql.PostgresException("could not serialize access", "ERROR", "ERROR", "40001"),
        };
        using var scope = app.Services.CreateScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Method = "POST";
        context.Request.Path = "/api/orders/1/cancel";
        context.Response.Body = new MemoryStream();
        var handler = scope.ServiceProvider.GetServices<Microsoft.AspNetCore.Diagnostics.IExceptionHandler>().Single();

        (await handler.TryHandleAsync(context, exception, CancellationToken.None)).Should().BeTrue();

        context.Response.StatusCode.Should().Be(StatusCodes.Status503ServiceUnavailable);
        context.Response.Headers.RetryAfter.ToString().Should().Be("1");
        context.Response.Body.Position = 0;
        var problem = await System.Text.Json.JsonDocument.ParseAsync(context.Response.Body);
        problem.RootElement.GetProperty("status").GetInt32().Should().Be(503);
        problem.RootElement.GetProperty("detail").GetString().Should().Contain("nothing was changed");
    }
}
