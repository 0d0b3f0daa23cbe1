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
        foreach (var script in new[] { SchemaResource, JournalResource })
        {
            using var command = connection.CreateCommand();
            command.CommandText = SchemaScript.Read(script);
            command.ExecuteNonQuery();
        }
        return connectionString;
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
