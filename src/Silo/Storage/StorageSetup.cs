using Vetrina.Grains.Common;
using Vetrina.Silo.Hosting;

namespace Vetrina.Silo.Storage;

/// <summary>The single switch between storage kinds: grain state and reminders (and, in cluster mode, membership).</summary>
public static class StorageSetup
{
    // Orleans names SQLite "System.Data.SQLite" and loads Microsoft.Data.Sqlite for it.
    public const string SqliteInvariant = "System.Data.SQLite";

    public static ISiloBuilder UseVetrinaStorage(this ISiloBuilder silo, VetrinaSettings settings)
    {
        switch (settings.Storage)
        {
            case StorageKind.Memory:
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
                silo.AddMemoryGrainStorage(StateStorage.Name);
                silo.UseInMemoryReminderService();
                break;
            case StorageKind.Sqlite:
                var connectionString = SqliteDatabase.Prepare(settings.SqlitePath);
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
                silo.AddAdoNetGrainStorage(StateStorage.Name, o =>
                {
                    o.Invariant = SqliteInvariant;
                    o.ConnectionString = connectionString;
                });
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = SqliteInvariant;
                    o.ConnectionString = connectionString;
                });
                break;
            default:
                throw new InvalidOperationException($"Storage '{settings.Storage}' is not supported yet; use 'sqlite' or 'memory'.");
        }
        return silo;
    }
}
