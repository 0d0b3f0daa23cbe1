using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Vetrina.Grains.Creators;
using System.Net;
using Orleans.Configuration;
using Orleans.Storage;
using Vetrina.Grains.Ads;
using Vetrina.Grains.Common;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Links;
using Vetrina.Grains.Orders;
using Vetrina.Grains.Reports;
using Npgsql;
using Vetrina.Silo.Hosting;
using Vetrina.Silo.Storage.Postgres;
using Vetrina.Silo.Storage.Sqlite;

namespace Vetrina.Silo.Storage;

/// <summary>
/// The single switch between storage kinds. <c>sqlite</c> and <c>memory</c> run one silo with localhost
/// clustering; <c>postgres</c> runs a real cluster: membership, grain state and reminders in PostgreSQL.
/// </summary>
public static class StorageSetup
{
    // Orleans names SQLite "System.Data.SQLite" and loads Microsoft.Data.Sqlite for it.
    public const string SqliteInvariant = "System.Data.SQLite";
    public const string PostgresInvariant = "Npgsql";

    public static ISiloBuilder UseVetrinaStorage(this ISiloBuilder silo, VetrinaSettings settings)
    {
        // Grain state is stored in Orleans' own binary format (every stored type has [GenerateSerializer] with stable
        // ids), not Orleans' default Newtonsoft JSON: it is several times cheaper to write, and hot grains write often.
        silo.Services.AddSingleton<IGrainStorageSerializer, OrleansGrainStorageSerializer>();
        // Console cookies and form tokens are protected with keys every silo of the service shares, named the same
        // whatever folder a silo runs from; the database modes below keep the keys in the database.
        if (settings.Storage == StorageKind.Postgres)
        {
            // Registered before data protection's own hosted service, which starts next and would otherwise make a key
            // of its own, without the lock, when the ring is empty.
            silo.Services.AddHostedService<PostgresKeyRingStart>();
        }
        var dataProtection = silo.Services.AddDataProtection().SetApplicationName(settings.ServiceId);
        switch (settings.Storage)
        {
            case StorageKind.Memory:
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
                silo.Services.AddKeyedSingleton<IGrainStorage>(StateStorage.Name,
                    (services, _) => new InProcessGrainStorage(services.GetRequiredService<IGrainStorageSerializer>()));
                silo.UseInMemoryReminderService();
                silo.Services.AddSingleton<InMemorySalesJournal>();
                silo.Services.AddSingleton<ISalesJournal>(services => services.GetRequiredService<InMemorySalesJournal>());
                silo.Services.AddSingleton<IFulfilmentBook>(services => services.GetRequiredService<InMemorySalesJournal>());
                silo.Services.AddSingleton<IClickJournal, InMemoryClickJournal>();
                silo.Services.AddSingleton<ICreatorBooks, InMemoryCreatorBooks>();
                silo.Services.AddSingleton<IReportBook, InMemoryReportBook>();
                silo.Services.AddSingleton<IAdSpendStore, InMemoryAdSpendStore>();
                break;
            case StorageKind.Sqlite:
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
                var sqlite = SqliteDatabase.Prepare(settings.SqlitePath);
                UseAdoNet(silo, SqliteInvariant, sqlite);
                silo.Services.AddSingleton<ISalesJournal>(new SqliteSalesJournal(sqlite));
                silo.Services.AddSingleton<IClickJournal>(new SqliteClickJournal(sqlite));
                silo.Services.AddSingleton<ICreatorBooks>(new SqliteCreatorBooks(sqlite));
                silo.Services.AddSingleton<IReportBook>(new SqliteReportBook(sqlite));
                silo.Services.AddSingleton<IAdSpendStore>(new SqliteAdSpendStore(sqlite));
                silo.Services.AddSingleton<IFulfilmentBook>(new SqliteFulfilmentBook(sqlite));
                dataProtection.AddKeyManagementOptions(o => o.XmlRepository = new DatabaseKeyRing(() => new Microsoft.Data.Sqlite.SqliteConnection(sqlite)));
                break;
            case StorageKind.Postgres:
                var connectionString = PostgresDatabase.WithEngineDefaults(settings.PostgresConnectionString
                    ?? throw new InvalidOperationException("Vetrina:PostgresConnectionString is required when Vetrina:Storage is 'postgres'."));
                PostgresDatabase.Prepare(connectionString);
                silo.Configure<EndpointOptions>(o =>
                {
                    o.AdvertisedIPAddress = IPAddress.Parse(settings.AdvertisedAddress);
                    o.SiloPort = settings.SiloPort;
                    o.GatewayPort = settings.GatewayPort;
                    o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Parse(settings.ListenAddress), settings.SiloPort);
                    o.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Parse(settings.ListenAddress), settings.GatewayPort);
                });
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = PostgresInvariant;
                    o.ConnectionString = connectionString;
                });
                UseAdoNet(silo, PostgresInvariant, connectionString);
                silo.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
                silo.Services.AddSingleton<ISalesJournal, PostgresSalesJournal>();
                silo.Services.AddSingleton<IClickJournal, PostgresClickJournal>();
                silo.Services.AddSingleton<ICreatorBooks, PostgresCreatorBooks>();
                silo.Services.AddSingleton<IReportBook, PostgresReportBook>();
                silo.Services.AddSingleton<IAdSpendStore, PostgresAdSpendStore>();
                silo.Services.AddSingleton<IFulfilmentBook, PostgresFulfilmentBook>();
                silo.Services.AddOptions<KeyManagementOptions>().Configure<NpgsqlDataSource>((o, database) => o.XmlRepository = new DatabaseKeyRing(database.CreateConnection));
                break;
            default:
                throw new InvalidOperationException($"Unknown storage '{settings.Storage}'; use sqlite, memory or postgres.");
        }
        return silo;
    }

    private static void UseAdoNet(ISiloBuilder silo, string invariant, string connectionString)
    {
        silo.AddAdoNetGrainStorage(StateStorage.Name, o =>
        {
            o.Invariant = invariant;
            o.ConnectionString = connectionString;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = invariant;
            o.ConnectionString = connectionString;
        });
    }
}
