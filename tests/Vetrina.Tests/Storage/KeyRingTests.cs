using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Vetrina.Silo.Storage;
using Vetrina.Silo.Storage.Postgres;

namespace Vetrina.Tests.Storage;

/// <summary>
/// The data-protection key ring in the database: silos starting together on an empty PostgreSQL ring make one key
/// between them (one at a time behind the advisory lock), what one protects another unprotects, and the embedded
/// SQLite file keeps the ring across a restart.
/// </summary>
public sealed class KeyRingTests
{
    [Fact]
    public async Task Silos_starting_together_on_an_empty_ring_make_one_key_and_read_each_others_payloads()
    {
        var connectionString = PostgresDatabase.WithEngineDefaults(await TestPostgres.CreateDatabaseAsync("keyring"));
        PostgresDatabase.Prepare(connectionString);
        await using var database = NpgsqlDataSource.Create(connectionString);
        var silos = Enumerable.Range(0, 6).Select(_ => Silo(database)).ToList();
        try
        {
            using var start = new Barrier(silos.Count);
            await Task.WhenAll(silos.Select(silo => Task.Run(async () =>
            {
                start.SignalAndWait();
                await new PostgresKeyRingStart(silo.GetRequiredService<IKeyManager>(), silo.GetRequiredService<IOptions<KeyManagementOptions>>(), database)
                    .StartAsync(CancellationToken.None);
            })));

            await using (var count = database.CreateCommand("SELECT count(*) FROM vetrina_data_protection_keys"))
            {
                Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
            }
            var protectedByFirst = silos[0].GetDataProtector("console").Protect("signed in");
            Assert.All(silos, silo => Assert.Equal("signed in", silo.GetDataProtector("console").Unprotect(protectedByFirst)));
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_engine_starts_the_key_ring_before_data_protection_loads_it()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("keyringorder");
        var builder = Vetrina.Silo.Hosting.VetrinaHost.CreateBuilder([
            "--environment=Production", $"--Vetrina:PlatformKey={VetrinaServer.PlatformKey}", "--Vetrina:Storage=postgres",
            $"--Vetrina:PostgresConnectionString={connectionString}",
        ]);
        // Hosted services start in the order they were added: data protection's own one makes a key, unlocked, if none exists.
        var hosted = builder.Services.Where(d => d.ServiceType == typeof(IHostedService)).Select(d => d.ImplementationType?.Name ?? "").ToList();
        Assert.Contains("DataProtectionHostedService", hosted);
        Assert.True(hosted.IndexOf(nameof(PostgresKeyRingStart)) is >= 0 and var ours && ours < hosted.IndexOf("DataProtectionHostedService"), string.Join(", ", hosted));
    }

    [Fact]
    public async Task The_embedded_file_keeps_the_ring_so_a_restart_reads_what_it_protected_before()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"vetrina-keyring-{Guid.NewGuid():N}");
        var sqlite = SqliteDatabase.Prepare(Path.Combine(folder, "vetrina.db"));
        try
        {
            string cookie;
            await using (var before = Provider(new DatabaseKeyRing(() => new Microsoft.Data.Sqlite.SqliteConnection(sqlite))))
            {
                cookie = before.GetDataProtector("console").Protect("signed in");
            }
            // A new process on the same file (its own key manager, nothing cached): the same key, no new one.
            await using var after = Provider(new DatabaseKeyRing(() => new Microsoft.Data.Sqlite.SqliteConnection(sqlite)));
            Assert.Equal("signed in", after.GetDataProtector("console").Unprotect(cookie));
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(sqlite);
            await connection.OpenAsync();
            await using var count = connection.CreateCommand();
            count.CommandText = "SELECT count(*) FROM vetrina_data_protection_keys";
            Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>One silo's data protection as the engine sets it up over the shared database.</summary>
    private static ServiceProvider Silo(NpgsqlDataSource database) => Provider(new DatabaseKeyRing(database.CreateConnection));

    private static ServiceProvider Provider(DatabaseKeyRing ring)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDataProtection().SetApplicationName("vetrina-keyring-test");
        services.AddOptions<KeyManagementOptions>().Configure(o => o.XmlRepository = ring);
        return services.BuildServiceProvider();
    }
}
