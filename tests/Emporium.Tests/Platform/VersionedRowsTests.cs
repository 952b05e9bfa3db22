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
