using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Vetrina.Silo.Storage.Postgres;

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
