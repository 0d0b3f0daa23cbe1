using Npgsql;

namespace Vetrina.Tests.Infrastructure;

/// <summary>
/// The throwaway PostgreSQL that <c>tests/run.sh</c> starts (its address in <c>VETRINA_TEST_POSTGRES</c>).
/// Each caller gets a database of its own, so clusters of different tests never share state.
/// There is no skip: without the server these tests fail and say how to run them.
/// </summary>
public static class TestPostgres
{
    public const string Variable = "VETRINA_TEST_POSTGRES";

    public static async Task<string> CreateDatabaseAsync(string purpose)
    {
        var server = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(server))
        {
            throw new InvalidOperationException(
                $"{Variable} is not set. Run the suite with 'bash tests/run.sh', which starts a throwaway PostgreSQL for it.");
        }
        var name = $"vetrina_{purpose}_{Guid.NewGuid():N}"[..40].ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }
}
