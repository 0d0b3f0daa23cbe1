using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Vetrina.Grains.Common;

namespace Vetrina.Tests.Infrastructure;

/// <summary>
/// Lets a test interrupt a grain around a state write, as when its silo dies at that moment:
/// <see cref="InterruptAfterNextWrite"/> stores the next write of a chosen grain, then gives the grain an error
/// instead of the acknowledgement (the write is durable, what the grain meant to do after it does not happen);
/// <see cref="LoseWrite"/> lets some writes through and then refuses one without storing it (the write is lost).
/// </summary>
public sealed class StorageFaults
{
    private readonly ConcurrentDictionary<GrainId, byte> _armed = new();
    private readonly ConcurrentDictionary<GrainId, int> _lostAfter = new();
    private readonly ConcurrentDictionary<GrainId, byte> _lost = new();
    private readonly ConcurrentDictionary<GrainId, int> _stored = new();

    public void InterruptAfterNextWrite(GrainId grain) => _armed[grain] = 0;

    /// <summary>The grain's next <paramref name="writesLetThrough"/> writes are stored; the one after is not.</summary>
    public void LoseWrite(GrainId grain, int writesLetThrough) => _lostAfter[grain] = writesLetThrough;

    /// <summary>Whether a write armed by <see cref="LoseWrite"/> was refused.</summary>
    public bool WasLost(GrainId grain) => _lost.ContainsKey(grain);

    /// <summary>How many writes of the grain storage has accepted.</summary>
    public int StoredWrites(GrainId grain) => _stored.GetValueOrDefault(grain);

    private bool Fire(GrainId grain) => _armed.TryRemove(grain, out _);

    private bool Lose(GrainId grain)
    {
        while (_lostAfter.TryGetValue(grain, out var left))
        {
            if (left == 0)
            {
                _lostAfter.TryRemove(grain, out _);
                _lost[grain] = 0;
                return true;
            }
            if (_lostAfter.TryUpdate(grain, left - 1, left))
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>Puts the fault switch in front of the engine's grain storage.</summary>
    internal void Install(IServiceCollection services)
    {
        var original = services.Single(d => d.ServiceType == typeof(IGrainStorage) && Equals(d.ServiceKey, StateStorage.Name));
        services.Remove(original);
        services.AddKeyedSingleton<IGrainStorage>(StateStorage.Name,
            (sp, key) => new InterruptibleStorage((IGrainStorage)original.KeyedImplementationFactory!(sp, key), this));
    }

    private sealed class InterruptibleStorage(IGrainStorage inner, StorageFaults faults) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            inner.ReadStateAsync(stateName, grainId, grainState);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (faults.Lose(grainId))
            {
                throw new OrleansException($"Injected fault: the write of {grainId} was lost.");
            }
            await inner.WriteStateAsync(stateName, grainId, grainState);
            faults._stored.AddOrUpdate(grainId, 1, (_, n) => n + 1);
            if (faults.Fire(grainId))
            {
                throw new OrleansException($"Injected fault: the state of {grainId} was stored, then the write was interrupted.");
            }
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
