using Npgsql;

namespace Vetrina.Tests.Api;

/// <summary>Live answers while the process runs; ready only while the silo is a member and its store answers, and says why not.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task Ready_answers_503_with_the_reason_while_storage_fails_and_200_again_once_it_answers()
    {
        var database = await TestPostgres.CreateDatabaseAsync("health");
        await using var server = await VetrinaServer.StartAsync("postgres",
            settings: new Dictionary<string, string> { ["Vetrina:PostgresConnectionString"] = database });
        var api = server.Api;

        var ready = (await api.GetAsync("/health/ready", key: null)).Expect(HttpStatusCode.OK);
        Assert.Equal("healthy", ready.Str("status"));
        Assert.Equal("PostgreSQL answers.", ready.Body.GetProperty("checks").GetProperty("storage").GetProperty("reason").GetString());

        // The readiness probe reads the store's query table; without it the store no longer serves Vetrina.
        await ExecuteAsync(database, "ALTER TABLE orleansquery RENAME TO orleansquery_away");
        try
        {
            var failing = (await api.GetAsync("/health/ready", key: null)).Expect(HttpStatusCode.ServiceUnavailable);
            Assert.Equal("application/json", failing.ContentType);
            Assert.Equal("unhealthy", failing.Str("status"));
            var checks = failing.Body.GetProperty("checks");
            Assert.Equal("healthy", checks.GetProperty("cluster").GetProperty("status").GetString());
            Assert.Equal("unhealthy", checks.GetProperty("storage").GetProperty("status").GetString());
            Assert.StartsWith("Storage does not answer: ", checks.GetProperty("storage").GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Contains("orleansquery", checks.GetProperty("storage").GetProperty("reason").GetString(), StringComparison.Ordinal);
            (await api.GetAsync("/health/live", key: null)).Expect(HttpStatusCode.OK);
        }
        finally
        {
            await ExecuteAsync(database, "ALTER TABLE orleansquery_away RENAME TO orleansquery");
        }

        Assert.Equal("healthy", (await api.GetAsync("/health/ready", key: null)).Expect(HttpStatusCode.OK).Str("status"));
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
