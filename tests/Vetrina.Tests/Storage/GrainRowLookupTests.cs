using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Vetrina.Silo.Storage;

namespace Vetrina.Tests.Storage;

/// <summary>
/// Reading, writing or clearing one grain's state finds its row through an index, whatever the number of grains of
/// its type. Orleans stores string-keyed grains (all of Vetrina's) with both numeric key parts 0, so a lookup that
/// keys on those parts alone matches every order, cart and checkout ever stored, and each activation would get
/// slower as the shop grows. The plans are read from each database with many rows of one grain type in place.
/// </summary>
public sealed class GrainRowLookupTests
{
    private const int Rows = 20_000;
    private const string GrainType = "vetrina.order";
    private const string ServiceId = "lookup";
    private static readonly string[] QueryKeys = ["ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey", "DeleteStorageKey"];

    [Fact]
    public async Task PostgreSQL_finds_one_grain_row_by_index_among_many_of_its_type()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("lookup");
        PostgresDatabase.Prepare(connectionString);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection, $"""
            INSERT INTO orleansstorage (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring, serviceid, payloadbinary, modifiedon, version)
            SELECT hashtext('o_' || g), 0, 0, 7, '{GrainType}', 'o_' || g, '{ServiceId}', '\x00', now(), 1 FROM generate_series(1, {Rows}) g;
            ANALYZE orleansstorage;
            """);

        foreach (var key in QueryKeys)
        {
            var plan = await PlanAsync(connection, "EXPLAIN " + await QueryTextAsync(connection, key));
            Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
            Assert.Contains("ix_orleansstorage_grainhash", plan, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SQLite_finds_one_grain_row_by_index_among_many_of_its_type()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vetrina-lookup-{Guid.NewGuid():N}", "vetrina.db");
        try
        {
            await using var connection = new SqliteConnection(SqliteDatabase.Prepare(path));
            await connection.OpenAsync();
            await ExecuteAsync(connection, $"""
                WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {Rows})
                INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
                SELECT n * 7919, 0, 0, 7, '{GrainType}', 'o_' || n, '{ServiceId}', x'00', '2026-01-01T00:00:00Z', 1 FROM g;
                ANALYZE;
                """);

            foreach (var key in QueryKeys)
            {
                var plan = await PlanAsync(connection, "EXPLAIN QUERY PLAN " + await QueryTextAsync(connection, key));
                Assert.DoesNotContain("SCAN OrleansStorage", plan, StringComparison.Ordinal);
                Assert.Contains("IX_OrleansStorage_GrainHash", plan, StringComparison.Ordinal);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string> QueryTextAsync(DbConnection connection, string key)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT querytext FROM orleansquery WHERE querykey = @key";
        AddParameter(command, "key", key);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The plan of one grain's lookup, with the parameters Orleans sends for an existing order.</summary>
    private static async Task<string> PlanAsync(DbConnection connection, string explain)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = explain;
        AddParameter(command, "GrainIdHash", 123_456_789);
        AddParameter(command, "GrainTypeHash", 7);
        AddParameter(command, "GrainIdN0", 0L);
        AddParameter(command, "GrainIdN1", 0L);
        AddParameter(command, "GrainTypeString", GrainType);
        AddParameter(command, "GrainIdExtensionString", "o_777");
        AddParameter(command, "ServiceId", ServiceId);
        AddParameter(command, "GrainStateVersion", 1);
        AddParameter(command, "PayloadBinary", new byte[] { 1, 2, 3 });
        await using var reader = await command.ExecuteReaderAsync();
        var plan = new List<string>();
        while (await reader.ReadAsync())
        {
            plan.Add(Convert.ToString(reader.GetValue(reader.FieldCount - 1), System.Globalization.CultureInfo.InvariantCulture)!);
        }
        return string.Join('\n', plan);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
