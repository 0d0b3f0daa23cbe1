using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Serialization;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;

namespace Vetrina.Tests.Storage;

/// <summary>
/// Group commit on its own: writes are gated by the test, so which caller waits for which write is exact.
/// (In a grain every call runs on the activation's single-threaded scheduler; here the test thread only calls
/// while the flush loop is parked on a gate, which gives the same one-at-a-time guarantee.)
/// </summary>
public sealed class GroupCommitTests
{
    private readonly List<TaskCompletionSource> _gates = [];
    private int _writes;
    private int _broken;

    [Fact]
    public async Task Changes_arriving_during_a_write_share_the_next_write_and_are_answered_only_after_it()
    {
        var commit = new GroupCommit(GatedWrite, batching: true, () => _broken++);

        var first = commit.DurableAsync();
        Assert.Equal(1, _writes);
        var during = Enumerable.Range(0, 50).Select(_ => commit.DurableAsync()).ToArray();
        Assert.Equal(1, _writes);

        _gates[0].SetResult();
        await first;
        Assert.All(during, t => Assert.False(t.IsCompleted));
        await Eventually.HoldsAsync(() => Task.FromResult(GateCount), c => c == 2, because: "the waiting changes start one write");

        _gates[1].SetResult();
        await Task.WhenAll(during);
        Assert.Equal(2, _writes);
        Assert.True(commit.SettledAsync().IsCompleted);
    }

    [Fact]
    public async Task Without_batching_every_change_gets_a_write_of_its_own()
    {
        var commit = new GroupCommit(GatedWrite, batching: false, () => _broken++);

        var calls = Enumerable.Range(0, 5).Select(_ => commit.DurableAsync()).ToArray();
        for (var i = 0; i < calls.Length; i++)
        {
            await Eventually.HoldsAsync(() => Task.FromResult(GateCount), c => c == i + 1, because: "writes go one at a time");
            Assert.All(calls.Skip(i), t => Assert.False(t.IsCompleted));
            _gates[i].SetResult();
            await calls[i];
        }
        Assert.Equal(5, _writes);
    }

    [Fact]
    public async Task A_failed_write_fails_its_callers_and_every_later_one_and_asks_the_grain_to_deactivate()
    {
        var commit = new GroupCommit(GatedWrite, batching: true, () => _broken++);

        var first = commit.DurableAsync();
        var waiting = commit.DurableAsync();
        _gates[0].SetException(new InvalidOperationException("storage refused"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => first);
        await Assert.ThrowsAsync<InvalidOperationException>(() => waiting);
        await Assert.ThrowsAsync<InvalidOperationException>(() => commit.DurableAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => commit.SettledAsync());
        Assert.Equal(1, _writes);
        // The flush loop asks for deactivation right after failing its callers; here it runs on another thread.
        await Eventually.HoldsAsync(() => Task.FromResult(Volatile.Read(ref _broken)), broken => broken == 1,
            because: "the broken commit asks the grain to deactivate once");
    }

    [Fact]
    public async Task A_replay_waits_for_the_write_in_flight_but_asks_for_no_write_of_its_own()
    {
        var commit = new GroupCommit(GatedWrite, batching: true, () => _broken++);

        var change = commit.DurableAsync();
        var replay = commit.SettledAsync();
        Assert.False(replay.IsCompleted);
        _gates[0].SetResult();
        await Task.WhenAll(change, replay);
        Assert.Equal(1, _writes);
        Assert.True(commit.SettledAsync().IsCompleted);
    }

    private int GateCount
    {
        get
        {
            lock (_gates)
            {
                return _gates.Count;
            }
        }
    }

    private Task GatedWrite()
    {
        _writes++;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gates)
        {
            _gates.Add(gate);
        }
        return gate.Task;
    }

    [Fact]
    public async Task Storage_serializes_the_state_as_it_was_when_the_write_started_while_calls_keep_changing_it()
    {
        // Orleans' ADO.NET storage serializes after an await, off the grain's turn: here the fake storage does the same.
        var copier = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<DeepCopier>();
        var storage = new GatedStorage(new ProductState { PriceMinor = 10, CommissionBps = 0 });
        var live = storage.State;
        var commit = storage.GroupCommit(new NoGrain(), new GroupCommitOptions(), copier, live, () => () => { });

        var write = commit.DurableAsync();
        live.PriceMinor -= 7;
        live.CommissionBps += 7;
        storage.Gate.SetResult();
        await write;

        Assert.Equal((10L, 0), storage.Serialized);
        Assert.NotSame(live, storage.State);
        Assert.Equal((3L, 7), (live.PriceMinor, live.CommissionBps));
    }

    private sealed class GatedStorage(ProductState initial) : IPersistentState<ProductState>
    {
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public (long PriceMinor, int CommissionBps) Serialized { get; private set; }

        public ProductState State { get; set; } = initial;

        public string? Etag => null;

        public bool RecordExists => true;

        public Task ClearStateAsync() => Task.CompletedTask;

        public Task ReadStateAsync() => Task.CompletedTask;

        public async Task WriteStateAsync()
        {
            await Gate.Task;
            Serialized = (State.PriceMinor, State.CommissionBps);
        }
    }

    private sealed class NoGrain : IGrainBase
    {
        public IGrainContext GrainContext => throw new InvalidOperationException("The commit must not break in this test.");
    }
}
