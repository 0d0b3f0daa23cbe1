using Npgsql;

namespace Vetrina.Silo.Storage;

/// <summary>Cluster mode's store. The schema script is ours, applied at every silo start; it is idempotent and
/// serialised by an advisory lock, so several silos starting at once are safe.</summary>
public static class PostgresDatabase
{
    private const string SchemaResource = "Vetrina.Silo.Storage.Postgres.postgres-schema.sql";

    public static void Prepare(string connectionString)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(SchemaScript.Read(SchemaResource), connection);
        command.ExecuteNonQuery();
    }

    public static async Task PingAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM orleansquery", connection);
        await command.ExecuteScalarAsync(cancellationToken);
    }
}
