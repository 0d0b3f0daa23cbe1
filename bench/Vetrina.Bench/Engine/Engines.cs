using System.Net.Http.Json;
using Npgsql;
using Vetrina.Bench.Baseline;

namespace Vetrina.Bench.Engine;

/// <summary>How the engine under test keeps its state.</summary>
public enum EngineMode
{
    /// <summary><c>Vetrina:Storage=memory</c>: nothing durable.</summary>
    Memory,

    /// <summary><c>Vetrina:Storage=postgres</c> with group commit: callers answered once their batch is durable.</summary>
    Postgres,

    /// <summary><c>Vetrina:Storage=postgres</c>, <c>Vetrina:GroupCommit=false</c>: one durable write per request (baseline 3).</summary>
    PostgresOneWrite,
}

public static class EngineModes
{
    public static string Key(EngineMode mode) => mode switch
    {
        EngineMode.Memory => "memory",
        EngineMode.Postgres => "postgres",
        _ => "postgres-one-write",
    };

    public static string Label(EngineMode mode) => mode switch
    {
        EngineMode.Memory => "memory",
        EngineMode.Postgres => "PostgreSQL, group commit",
        _ => "PostgreSQL, one write per request",
    };

    public static EngineMode Parse(string key) => key switch
    {
        "memory" => EngineMode.Memory,
        "postgres" => EngineMode.Postgres,
        "postgres-one-write" => EngineMode.PostgresOneWrite,
        _ => throw new ArgumentException($"Unknown mode '{key}' (memory, postgres, postgres-one-write)."),
    };
}

/// <summary>A Vetrina silo process, its client and (in PostgreSQL modes) its own database.</summary>
public sealed class RunningVetrina(ServerProcess server, VetrinaClient client, string platformKey, Func<ValueTask> dropDatabase) : IAsyncDisposable
{
    public ServerProcess Server { get; } = server;

    public VetrinaClient Client { get; } = client;

    public string PlatformKey { get; } = platformKey;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        await dropDatabase();
    }
}

/// <summary>
/// A fresh database with the hot-row schema and its one stocked row: what the hot-row server and pgbench both work on.
/// Disposing it drops it.
/// </summary>
public sealed class HotRowDatabase(string connectionString, Func<ValueTask> dropDatabase) : IAsyncDisposable
{
    public string ConnectionString { get; } = connectionString;

    public async Task<(int Available, int Stocked, long Orders, long Units)> ReadAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT s.available, s.stocked, (SELECT count(*) FROM orders), (SELECT coalesce(sum(quantity), 0) FROM orders) FROM stock s WHERE s.id = @id",
            connection);
        command.Parameters.AddWithValue("id", HotRowServer.ProductId);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt32(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    public ValueTask DisposeAsync() => dropDatabase();
}

/// <summary>The hot-row baseline process and its own database.</summary>
public sealed class RunningHotRow(ServerProcess server, HotRowDatabase database) : IAsyncDisposable
{
    public ServerProcess Server { get; } = server;

    public HotRowDatabase Database { get; } = database;

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Database.DisposeAsync();
    }
}

/// <summary>The JSON ceiling process: what it sold and counted, read from its <c>GET /counts</c>.</summary>
public sealed class RunningJsonCeiling(ServerProcess server, string platformKey) : IAsyncDisposable
{
    public ServerProcess Server { get; } = server;

    public string PlatformKey { get; } = platformKey;

    public async Task<JsonCeilingServer.Counts> ReadCountsAsync()
    {
        using var http = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", PlatformKey);
        return await http.GetFromJsonAsync("/counts", JsonCeilingServer.Json.Default.Counts)
            ?? throw new InvalidOperationException("The JSON ceiling answered no counts.");
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>Starts the processes under test: each with a fresh database of its own on the benchmark's PostgreSQL.</summary>
public sealed class Engines(BenchOptions options)
{
    private int _databases;

    public async Task<RunningVetrina> StartVetrinaAsync(EngineMode mode, IEnumerable<string>? extraSettings = null)
    {
        var platformKey = "bench-" + Guid.NewGuid().ToString("N");
        var port = ServerProcess.FreePort();
        var settings = new List<string>
        {
            "--environment=Production",
            $"--urls=http://127.0.0.1:{port}",
            $"--Vetrina:PlatformKey={platformKey}",
            $"--Vetrina:SiloPort={ServerProcess.FreePort()}",
            $"--Vetrina:GatewayPort={ServerProcess.FreePort()}",
            $"--Vetrina:ClusterId=bench-{port}",
            // One driver address and one brand key stand for many clients here (the wide catalog creates 100,000
            // products with one brand key): their per-key buckets are raised so the limits are not what is measured.
            "--Vetrina:RateLimits:Brand:PermitsPerSecond=1000000", "--Vetrina:RateLimits:Brand:Burst=1000000",
            "--Vetrina:RateLimits:Anonymous:PermitsPerSecond=1000000", "--Vetrina:RateLimits:Anonymous:Burst=1000000",
        };
        Func<ValueTask> drop = () => ValueTask.CompletedTask;
        if (mode == EngineMode.Memory)
        {
            settings.Add("--Vetrina:Storage=memory");
        }
        else
        {
            var (connectionString, dropDatabase) = await CreateDatabaseAsync("vetrina");
            drop = dropDatabase;
            settings.Add("--Vetrina:Storage=postgres");
            settings.Add($"--Vetrina:PostgresConnectionString={connectionString}");
            settings.Add($"--Vetrina:GroupCommit={(mode == EngineMode.Postgres ? "true" : "false")}");
        }
        settings.AddRange(extraSettings ?? []);
        var server = ServerProcess.Start($"vetrina-{EngineModes.Key(mode)}", options.SiloDll, port, settings, options.LogDirectory);
        try
        {
            await server.WaitUntilReadyAsync("/health/ready", TimeSpan.FromSeconds(90));
        }
        catch
        {
            await server.DisposeAsync();
            await drop();
            throw;
        }
        return new RunningVetrina(server, new VetrinaClient(server.Address, platformKey), platformKey, drop);
    }

    public async Task<RunningHotRow> StartHotRowAsync(int stock, int connections)
    {
        var database = await CreateHotRowDatabaseAsync(stock);
        // A pool as large as the load: the classic design gives every concurrent request its own connection.
        var poolConnectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            MaxPoolSize = Math.Max(100, connections),
            MaxAutoPrepare = 10,
        }.ConnectionString;
        var port = ServerProcess.FreePort();
        var server = await StartBaselineAsync("hot-row", port,
            [HotRowServer.Command, $"--urls=http://127.0.0.1:{port}", $"--connection={poolConnectionString}"], database.DisposeAsync);
        return new RunningHotRow(server, database);
    }

    /// <summary>The JSON ceiling server with <paramref name="stock"/> units on its in-memory counter.</summary>
    public async Task<RunningJsonCeiling> StartJsonCeilingAsync(int stock)
    {
        var platformKey = "bench-" + Guid.NewGuid().ToString("N");
        var port = ServerProcess.FreePort();
        var server = await StartBaselineAsync("json-ceiling", port,
            [JsonCeilingServer.Command, $"--urls=http://127.0.0.1:{port}", $"--key={platformKey}", $"--stock={stock}"], () => ValueTask.CompletedTask);
        return new RunningJsonCeiling(server, platformKey);
    }

    /// <summary>A fresh database with the hot-row schema and one row of <paramref name="stock"/> units.</summary>
    public async Task<HotRowDatabase> CreateHotRowDatabaseAsync(int stock)
    {
        var (connectionString, drop) = await CreateDatabaseAsync("hotrow");
        var database = new HotRowDatabase(connectionString, drop);
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var schema = new NpgsqlCommand(HotRowServer.Schema, connection);
            await schema.ExecuteNonQueryAsync();
            await using var seed = new NpgsqlCommand("INSERT INTO stock (id, available, stocked) VALUES (@id, @stock, @stock)", connection);
            seed.Parameters.AddWithValue("id", HotRowServer.ProductId);
            seed.Parameters.AddWithValue("stock", stock);
            await seed.ExecuteNonQueryAsync();
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
        return database;
    }

    /// <summary>A baseline server of this benchmark's own dll (a subcommand), ready at <c>/ready</c>; on failure, cleans up.</summary>
    private async Task<ServerProcess> StartBaselineAsync(string name, int port, IEnumerable<string> arguments, Func<ValueTask> cleanUp)
    {
        var server = ServerProcess.Start(name, options.BenchDll, port, arguments, options.LogDirectory);
        try
        {
            await server.WaitUntilReadyAsync("/ready", TimeSpan.FromSeconds(60));
        }
        catch
        {
            await server.DisposeAsync();
            await cleanUp();
            throw;
        }
        return server;
    }

    private async Task<(string ConnectionString, Func<ValueTask> Drop)> CreateDatabaseAsync(string purpose)
    {
        var server = options.PostgresServer
            ?? throw new InvalidOperationException("No PostgreSQL: run the benchmark with 'bash bench/run.sh', which starts one.");
        var name = $"bench_{purpose}_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}";
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return (new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString, async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(server);
            await connection.OpenAsync();
            await using var dropCommand = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
            await dropCommand.ExecuteNonQueryAsync();
        });
    }
}
