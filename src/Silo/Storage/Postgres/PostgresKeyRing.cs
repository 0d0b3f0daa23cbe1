using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Vetrina.Silo.Storage.Postgres;

/// <summary>
/// The data-protection key ring of cluster mode (vetrina_data_protection_keys in postgres-journal.sql): every silo
/// reads and writes the same keys, so a console cookie or form token made by one silo is read by any other.
/// </summary>
public sealed class PostgresKeyRing(NpgsqlDataSource database) : IXmlRepository
{
    // The key manager calls these synchronously, rarely: at start, when its cached ring expires, and to add a key.
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var command = database.CreateCommand("SELECT xml FROM vetrina_data_protection_keys ORDER BY id");
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }
        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var command = database.CreateCommand("INSERT INTO vetrina_data_protection_keys (friendly_name, xml) VALUES ($1, $2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = friendlyName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = element.ToString(SaveOptions.DisableFormatting) });
        command.ExecuteNonQuery();
    }
}

/// <summary>
/// Makes sure the shared key ring has a key before this silo serves a request, one silo at a time (an advisory lock):
/// silos started together would otherwise each make a key of their own, and one that cached the ring before the
/// others' keys existed could not read their cookies until its next refresh of the ring.
/// </summary>
public sealed class PostgresKeyRingStart(IKeyManager keys, IOptions<KeyManagementOptions> options, NpgsqlDataSource database) : IHostedService
{
    private const long LockKey = 7316047261054;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", connection))
        {
            await take.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            var now = TimeProvider.System.GetUtcNow();
            if (!keys.GetAllKeys().Any(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now))
            {
                keys.CreateNewKey(now, now + options.Value.NewKeyLifetime);
            }
        }
        finally
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", connection);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
