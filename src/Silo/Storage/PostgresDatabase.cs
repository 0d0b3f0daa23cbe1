using Npgsql;

namespace Vetrina.Silo.Storage;

/// <summary>Cluster mode's store. The schema script is ours, applied at every silo start; it is idempotent and
/// serialised by an advisory lock, so several silos starting at once are safe.</summary>
public static class PostgresDatabase
{
    private const string SchemaResource = "Vetrina.Silo.Storage.Postgres.postgres-schema.sql";
    private const string JournalResource = "Vetrina.Silo.Storage.Postgres.postgres-journal.sql";

    /// <summary>
    /// The operator's connection string with what suits Orleans' storage, unless it says otherwise: a handful of
    /// statements run all the time, so Npgsql prepares them on the server once per connection (Max Auto Prepare),
    /// and as none of them changes session state, a pooled connection is handed back without a reset
    /// (No Reset On Close). Together they raised the durable viral buy from 429 to 656 per second in the benchmark.
    /// </summary>
    public static string WithEngineDefaults(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Mentions(builder, "Max Auto Prepare", "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 32;
        }
        if (!Mentions(builder, "No Reset On Close", "NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }
        return builder.ConnectionString;
    }

    private static bool Mentions(NpgsqlConnectionStringBuilder builder, params string[] keywords) =>
        keywords.Any(keyword => builder.Keys.Cast<string>().Contains(keyword, StringComparer.OrdinalIgnoreCase));

    public static void Prepare(string connectionString)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        foreach (var script in new[] { SchemaResource, JournalResource })
        {
            using var command = new NpgsqlCommand(SchemaScript.Read(script), connection);
            command.ExecuteNonQuery();
        }
    }

    public static async Task PingAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM orleansquery", connection);
        await command.ExecuteScalarAsync(cancellationToken);
    }
}
