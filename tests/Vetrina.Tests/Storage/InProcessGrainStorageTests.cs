using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;

namespace Vetrina.Tests.Storage;

/// <summary>
/// Memory mode's storage behaves as the databases do: each read gets its own copy, and a write from a stale version
/// (an activation that lost track of the stored state) fails instead of overwriting.
/// </summary>
public sealed class InProcessGrainStorageTests
{
    [Fact]
    public async Task Reads_get_copies_and_a_write_with_a_stale_version_is_refused()
    {
        await using var server = await VetrinaServer.StartAsync("memory");
        var storage = server.Services.GetRequiredKeyedService<IGrainStorage>(StateStorage.Name);
        var grain = GrainId.Create("vetrina-test", Guid.NewGuid().ToString("N"));

        var first = new GrainState<CreatorState>();
        await storage.ReadStateAsync("creator", grain, first);
        Assert.False(first.RecordExists);
        Assert.NotNull(first.State);

        first.State!.Applied.Record("o_1/1/creator/c_1", DateTimeOffset.UnixEpoch);
        await storage.WriteStateAsync("creator", grain, first);
        var written = first.ETag;

        var second = new GrainState<CreatorState>();
        await storage.ReadStateAsync("creator", grain, second);
        Assert.True(second.RecordExists);
        Assert.Equal(written, second.ETag);
        Assert.True(second.State!.Applied.Contains("o_1/1/creator/c_1"));
        second.State!.Applied.Record("o_2/1/creator/c_1", DateTimeOffset.UnixEpoch);
        var third = new GrainState<CreatorState>();
        await storage.ReadStateAsync("creator", grain, third);
        Assert.False(third.State!.Applied.Contains("o_2/1/creator/c_1"));

        // A write carrying a version that is no longer the stored one changes nothing.
        await storage.WriteStateAsync("creator", grain, second);
        third.State!.Applied.Record("o_3/1/creator/c_1", DateTimeOffset.UnixEpoch);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("creator", grain, third));
        var stale = new GrainState<CreatorState>();
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("creator", grain, stale));

        var last = new GrainState<CreatorState>();
        await storage.ReadStateAsync("creator", grain, last);
        Assert.Equal(second.ETag, last.ETag);
        Assert.True(last.State!.Applied.Contains("o_2/1/creator/c_1"));
        Assert.False(last.State!.Applied.Contains("o_3/1/creator/c_1"));

        await storage.ClearStateAsync("creator", grain, last);
        var cleared = new GrainState<CreatorState>();
        await storage.ReadStateAsync("creator", grain, cleared);
        Assert.False(cleared.RecordExists);
        Assert.False(cleared.State!.Applied.Contains("o_2/1/creator/c_1"));
    }
}
