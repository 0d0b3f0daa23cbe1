using Npgsql;
using Vetrina.Grains.Journal;
using Vetrina.Silo.Storage.Postgres;

namespace Vetrina.Tests.Infrastructure;

/// <summary>
/// A real Vetrina cluster: several silo processes on loopback sharing one PostgreSQL database for membership,
/// grain state and reminders. Its client spreads requests over every live silo, so each request may enter
/// through any of them, as behind an operator's load balancer.
/// </summary>
public sealed class SiloCluster : IAsyncDisposable
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(90);
    private readonly List<SiloProcess> _silos = [];
    private readonly string[] _settings;
    private int _next;

    private SiloCluster(string[] settings, string connectionString)
    {
        _settings = settings;
        ConnectionString = connectionString;
        Journal = new PostgresSalesJournal(NpgsqlDataSource.Create(connectionString));
        Api = new VetrinaClient(new Uri("http://127.0.0.1"), VetrinaServer.PlatformKey, NextAddress);
    }

    /// <summary>The cluster's own database, for tests that read or inject faults below the engine.</summary>
    public string ConnectionString { get; }

    /// <summary>The cluster's sales journal, read from its database.</summary>
    public ISalesJournal Journal { get; }

    /// <summary>Spreads requests round-robin over the silos that have not been killed.</summary>
    public VetrinaClient Api { get; }

    public IReadOnlyList<SiloProcess> Silos
    {
        get
        {
            lock (_silos)
            {
                return [.. _silos];
            }
        }
    }

    public static async Task<SiloCluster> StartAsync(int silos, string purpose, params string[] extraSettings)
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync(purpose);
        var cluster = new SiloCluster([
            "--environment=Production",
            $"--Vetrina:PlatformKey={VetrinaServer.PlatformKey}",
            "--Vetrina:Storage=postgres",
            $"--Vetrina:PostgresConnectionString={connectionString}",
            $"--Vetrina:ClusterId=cluster-{purpose}",
            $"--Vetrina:ServiceId=vetrina-{purpose}",
            "--Vetrina:MinimumReminderPeriod=00:00:01",
            "--Vetrina:Fulfilment:SettlementCheckInterval=00:00:01",
            "--Vetrina:Fulfilment:EffectRetryInterval=00:00:01",
            // Declare a killed silo dead within seconds instead of the production default of about a minute.
            "--Vetrina:Membership:ProbeTimeout=00:00:01",
            "--Vetrina:Membership:NumMissedProbesLimit=2",
            "--Vetrina:Membership:TableRefreshTimeout=00:00:02",
            "--Vetrina:Membership:IAmAliveTablePublishTimeout=00:00:05",
            "--Vetrina:Messaging:ResponseTimeout=00:00:10",
            "--Logging:LogLevel:Default=Warning",
            .. extraSettings,
        ], connectionString);
        try
        {
            // The first silo creates the schema and the cluster's membership row; the others then join it together.
            await cluster.AddSiloAsync();
            await Task.WhenAll(Enumerable.Range(1, silos - 1).Select(_ => cluster.AddSiloAsync()));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The one silo whose activations include a grain of the class (the cluster's only one), from <c>GET /api/cluster</c>.</summary>
    public async Task<SiloProcess> HostOfAsync(string grainClass)
    {
        var report = (await Api.GetAsync("/api/cluster")).Expect(HttpStatusCode.OK);
        var hosts = report.Body.GetProperty("silos").EnumerateArray()
            .Where(s => s.GetProperty("activationsByGrain").EnumerateObject()
                .Any(g => g.Name.Equals(grainClass, StringComparison.OrdinalIgnoreCase) && g.Value.GetInt32() > 0))
            .Select(s => s.GetProperty("address").GetString()!).ToArray();
        Assert.True(hosts.Length == 1, $"one silo hosts the {grainClass}: {report.Raw}");
        return Silos.Single(s => hosts[0].Contains($":{s.SiloPort}:", StringComparison.Ordinal));
    }

    /// <summary>Starts one more silo; once it has joined and is ready, the client sends it requests too.</summary>
    public async Task<SiloProcess> AddSiloAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var silo = SiloProcess.Start(_settings);
            try
            {
                await silo.WaitUntilReadyAsync(ReadyDeadline);
            }
            catch (InvalidOperationException) when (attempt < 3 && silo.Output.Contains("address already in use", StringComparison.Ordinal))
            {
                // Another process took one of its ports between the check and the bind: start it on new ones.
                await silo.DisposeAsync();
                continue;
            }
            catch
            {
                await silo.DisposeAsync();
                throw;
            }
            lock (_silos)
            {
                _silos.Add(silo);
            }
            return silo;
        }
    }

    /// <summary>Stops every silo, then fails if any answer of the cluster broke the OpenAPI document.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Silos.Select(s => s.DisposeAsync().AsTask()));
        Api.Dispose();
        Api.Contract.AssertKept();
    }

    private Uri NextAddress()
    {
        var live = Silos.Where(s => !s.HasExited).ToArray();
        if (live.Length == 0)
        {
            throw new InvalidOperationException("No silo of the cluster is running.");
        }
        return live[(int)((uint)Interlocked.Increment(ref _next) % live.Length)].Address;
    }
}

/// <summary>A three-silo cluster shared by the API tests that run against a cluster.</summary>
public sealed class ClusterFixture : IApiTarget, IAsyncLifetime
{
    public SiloCluster Cluster { get; private set; } = null!;

    public VetrinaClient Api => Cluster.Api;

    public ISalesJournal Journal => Cluster.Journal;

    public async Task InitializeAsync() => Cluster = await SiloCluster.StartAsync(3, "api");

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SharedCluster : ICollectionFixture<ClusterFixture>
{
    public const string Name = "shared three-silo PostgreSQL cluster";
}
