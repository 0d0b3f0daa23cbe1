using Microsoft.Data.Sqlite;

namespace Vetrina.Silo.Storage;

/// <summary>The embedded default: one SQLite file, created with our own schema script on first start.</summary>
public static class SqliteDatabase
{
    private const string SchemaResource = "Vetrina.Silo.Storage.Sqlite.sqlite-schema.sql";
    private const string JournalResource = "Vetrina.Silo.Storage.Sqlite.sqlite-journal.sql";

    /// <summary>Creates the folder and applies the schema (idempotent); returns the connection string to use.</summary>
    public static string Prepare(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        // Before the script, whose index names the column: a file made before stages were kept gets it (NULL: no stage).
        AddColumnIfMissing(connection, "vetrina_journal_orders", "stage", "INTEGER");
        foreach (var script in new[] { SchemaResource, JournalResource })
        {
            using var command = connection.CreateCommand();
            command.CommandText = SchemaScript.Read(script);
            command.ExecuteNonQuery();
        }
        AddColumnIfMissing(connection, "vetrina_shopper_clicks", "campaign_id", "TEXT");
        return connectionString;
    }

    /// <summary>A column added after its table was first released: files made before get it too (SQLite has no ADD COLUMN IF NOT EXISTS).</summary>
    private static void AddColumnIfMissing(SqliteConnection connection, string table, string column, string type)
    {
        using var probe = connection.CreateCommand();
        // No columns at all: the table does not exist yet, and the script creates it with the column.
        probe.CommandText = $"SELECT COUNT(*), COUNT(*) FILTER (WHERE name = '{column}') FROM pragma_table_info('{table}')";
        using (var reader = probe.ExecuteReader())
        {
            reader.Read();
            if (reader.GetInt64(0) == 0 || reader.GetInt64(1) > 0)
            {
                return;
            }
        }
        using var alter = connection.CreateCommand();
        alter.CommandText = $"ALTER TABLE {table} ADD COLUMN {column} {type}";
        alter.ExecuteNonQuery();
    }

    public static async Task PingAsync(string path, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM OrleansQuery";
        await command.ExecuteScalarAsync(cancellationToken);
    }
}
