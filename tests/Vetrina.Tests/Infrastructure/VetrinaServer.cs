using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Vetrina.Grains.Common;
using Vetrina.Silo.Hosting;

namespace Vetrina.Tests.Infrastructure;

/// <summary>A real Vetrina process part: Orleans silo plus Kestrel on a loopback port, started in the test process.</summary>
public sealed class VetrinaServer : IAsyncDisposable
{
    public const string PlatformKey = "test-platform-key-0123456789";

    private readonly WebApplication _app;

    private VetrinaServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Api = new VetrinaClient(address, PlatformKey);
    }

    public Uri Address { get; }

    public VetrinaClient Api { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="settings">Extra configuration, for example <c>["Vetrina:Checkout:HoldSweepInterval"] = "00:00:00.2"</c>.</param>
    /// <param name="faults">A switch that interrupts chosen grain state writes (memory storage only).</param>
    /// <param name="services">Replaces or adds services after the engine's own, for example a payment gateway or a telemetry exporter.</param>
    public static async Task<VetrinaServer> StartAsync(string storage = "memory", string? dataDirectory = null, FakeTimeProvider? clock = null,
        string environment = "Production", IReadOnlyDictionary<string, string>? settings = null, StorageFaults? faults = null,
        Action<IServiceCollection>? services = null)
    {
        var args = new List<string>
        {
            "--urls=http://127.0.0.1:0",
            $"--environment={environment}",
            $"--Vetrina:PlatformKey={PlatformKey}",
            $"--Vetrina:Storage={storage}",
            $"--Vetrina:SiloPort={TestPorts.Next()}",
            $"--Vetrina:GatewayPort={TestPorts.Next()}",
            $"--Vetrina:ClusterId=test-{Guid.NewGuid():N}",
            "--Vetrina:MinimumReminderPeriod=00:00:01",
            "--Vetrina:Fulfilment:SettlementCheckInterval=00:00:01",
            "--Vetrina:Fulfilment:EffectRetryInterval=00:00:01",
            "--Logging:LogLevel:Default=Warning",
        };
        if (dataDirectory is not null)
        {
            args.Add($"--Vetrina:DataDirectory={dataDirectory}");
        }
        args.AddRange((settings ?? new Dictionary<string, string>()).Select(s => $"--{s.Key}={s.Value}"));
        var builder = VetrinaHost.CreateBuilder([.. args]);
        if (clock is not null)
        {
            builder.Services.AddSingleton(new CommerceClock(clock));
        }
        if (faults is not null)
        {
            if (storage != "memory")
            {
                throw new ArgumentException("Storage faults are injected in front of the memory storage only.", nameof(faults));
            }
            faults.Install(builder.Services);
        }
        services?.Invoke(builder.Services);
        var app = builder.Build().UseVetrina();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new VetrinaServer(app, new Uri(address));
    }

    /// <summary>Stops the server, then fails if any answer it gave broke the OpenAPI document.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Api.Dispose();
        Api.Contract.AssertKept();
    }
}
