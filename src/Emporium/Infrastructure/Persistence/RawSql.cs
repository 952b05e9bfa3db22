using System.Data.Common;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace Emporium.Infrastructure.Persistence;

/// <summary>
/// Hand-written SQL on the context's own connection, for the statements EF cannot express (claims with SKIP LOCKED,
/// UPDATE ... RETURNING, set-based outcome writes): enlisted in the context's current transaction, with its timeout.
/// </summary>
internal static class RawSql
{
    public static async Task<DbCommand> CommandAsync(
        this DatabaseFacade database, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        var connection = database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await database.OpenConnectionAsync(cancellationToken);
        }

        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = database.GetCommandTimeout() ?? 30;
        command.Transaction = database.CurrentTransaction?.GetDbTransaction();
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    public static async Task<int> ExecuteAsync(
        this DatabaseFacade database, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = await database.CommandAsync(sql, cancellationToken, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
