using Microsoft.Extensions.DependencyInjection;
using Vetrina.Grains.Journal;
namespace Vetrina.Tests.Infrastructure;

/// <summary>Where a test's requests go: one silo or a whole cluster; the tests cannot tell the difference.</summary>
public interface IApiTarget
{
    VetrinaClient Api { get; }

    /// <summary>The engine's sales journal, read directly (its database), to check stored rows against answers.</summary>
    ISalesJournal Journal { get; }
}

/// <summary>One in-memory server shared by a collection of tests that do not move the clock.</summary>
public sealed class ServerFixture : IApiTarget, IAsyncLifetime
{
    public VetrinaServer Server { get; private set; } = null!;

    public VetrinaClient Api => Server.Api;

    public ISalesJournal Journal => Server.Services.GetRequiredService<ISalesJournal>();

    public async Task InitializeAsync() => Server = await VetrinaServer.StartAsync("memory");

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SharedServer : ICollectionFixture<ServerFixture>
{
    public const string Name = "shared in-memory server";
}
