using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Vetrina.Grains.Common;

namespace Vetrina.Tests.Infrastructure;

/// <summary>
/// Lets a test interrupt a grain right after a state write: the next write of a chosen grain is stored, then the
/// grain gets an error instead of the acknowledgement. Whatever the grain meant to do after that write does not
/// happen, as when its silo dies at that moment, while the written state is durable.
/// </summary>
public sealed class StorageFaults
{
    private readonly ConcurrentDictionary<GrainId, byte> _armed = new();

    public void InterruptAfterNextWrite(GrainId grain) => _armed[grain] = 0;

    private bool Fire(GrainId grain) => _armed.TryRemove(grain, out _);

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
            await inner.WriteStateAsync(stateName, grainId, grainState);
            if (faults.Fire(grainId))
            {
                throw new OrleansException($"Injected fault: the state of {grainId} was stored, then the write was interrupted.");
            }
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
