using Npgsql;
using Vetrina.Silo.Storage;

namespace Vetrina.Tests.Storage;

/// <summary>The schema step every silo runs at start-up is safe to run again and from several silos at once.</summary>
public sealed class PostgresSchemaTests
{
    [Fact]
    public async Task Applying_the_schema_again_and_concurrently_changes_nothing_and_keeps_every_query()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("schema");
        PostgresDatabase.Prepare(connectionString);
        var before = await QueriesAsync(connectionString);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PostgresDatabase.Prepare(connectionString))));
        PostgresDatabase.Prepare(connectionString);

        var after = await QueriesAsync(connectionString);
        Assert.Equal(20, after.Count);
        Assert.Equal(before, after);
        Assert.True(await GrainHashIndexValidAsync(connectionString));
        await PostgresDatabase.PingAsync(connectionString, CancellationToken.None);
    }

    [Fact]
    public async Task A_silo_starting_beside_running_buys_takes_no_lock_that_holds_them_up()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("schemalocks");
        PostgresDatabase.Prepare(connectionString);
        // Running silos' open writes: on every table of ours, the lock a write holds until it commits, which a CREATE INDEX
        // or ALTER TABLE would wait for (and make every later write wait behind it).
        await using var running = new NpgsqlConnection(connectionString);
        await running.OpenAsync();
        await using var writes = await running.BeginTransactionAsync();
        await using (var tables = new NpgsqlCommand("SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE tablename LIKE 'vetrina%' OR tablename LIKE 'orleans%'", running, writes))
        {
            var names = (string)(await tables.ExecuteScalarAsync())!;
            Assert.Contains("vetrina_journal_orders", names, StringComparison.Ordinal);
            await using var lockAll = new NpgsqlCommand($"LOCK TABLE {names} IN ROW EXCLUSIVE MODE", running, writes);
            await lockAll.ExecuteNonQueryAsync();
        }

        // The start's schema step finishes while those writes are still open: it waited on none of them.
        var start = Task.Run(() => PostgresDatabase.Prepare(connectionString + ";Command Timeout=20"));
        await start.WaitAsync(TimeSpan.FromSeconds(30));
        await writes.RollbackAsync();
    }

    [Fact]
    public async Task Silos_starting_together_on_an_empty_database_create_the_schema_and_its_indexes_once()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("schemafresh");

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PostgresDatabase.Prepare(connectionString))));

        Assert.Equal(20, (await QueriesAsync(connectionString)).Count);
        Assert.True(await GrainHashIndexValidAsync(connectionString));
    }

    private static async Task<bool?> GrainHashIndexValidAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_orleansstorage_grainhash'", connection);
        return await command.ExecuteScalarAsync() as bool?;
    }

    [Fact]
    public void The_engine_prepares_its_statements_and_skips_connection_resets_unless_the_operator_says_otherwise()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresDatabase.WithEngineDefaults("Host=127.0.0.1;Username=vetrina;Database=shop"));
        Assert.Equal((32, true, "shop"), (tuned.MaxAutoPrepare, tuned.NoResetOnClose, tuned.Database));

        var operators = new NpgsqlConnectionStringBuilder(PostgresDatabase.WithEngineDefaults("Host=127.0.0.1;Max Auto Prepare=0;NoResetOnClose=false"));
        Assert.Equal((0, false), (operators.MaxAutoPrepare, operators.NoResetOnClose));
    }

    private static async Task<Dictionary<string, string>> QueriesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT querykey, querytext FROM orleansquery", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            queries[reader.GetString(0)] = reader.GetString(1);
        }
        return queries;
    }
}
