using System.Collections.Concurrent;
using Orleans.Storage;

namespace Vetrina.Silo.Storage;

/// <summary>
/// Memory mode's grain storage: one silo keeps each grain's state, serialized with the same binary serializer as the
/// databases, in a dictionary of its own process. Orleans' memory provider would send every read and write as a call
/// to a storage grain, which costs a buy a dozen extra grain calls; a single silo needs none of that. ETags are
/// checked as a database would: a write from a stale activation fails with <see cref="InconsistentStateException"/>.
/// </summary>
public sealed class InProcessGrainStorage(IGrainStorageSerializer serializer) : IGrainStorage
{
    private readonly ConcurrentDictionary<(string StateName, GrainId Grain), Row> _rows = new();
    private readonly Lock _writes = new();
    private long _nextVersion;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.TryGetValue((stateName, grainId), out var row) && row.Payload is { } payload)
        {
            grainState.State = serializer.Deserialize<T>(payload);
            grainState.ETag = row.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = row?.ETag;
            grainState.RecordExists = false;
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var payload = serializer.Serialize(grainState.State);
        grainState.ETag = Replace(stateName, grainId, grainState.ETag, payload);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        grainState.ETag = Replace(stateName, grainId, grainState.ETag, payload: null);
        grainState.State = Activator.CreateInstance<T>();
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private string Replace(string stateName, GrainId grainId, string? expectedETag, BinaryData? payload)
    {
        lock (_writes)
        {
            var current = _rows.TryGetValue((stateName, grainId), out var row) ? row.ETag : null;
            if (current != expectedETag)
            {
                throw new InconsistentStateException($"Version conflict writing {stateName} of {grainId}.", current ?? "", expectedETag ?? "");
            }
            var etag = (++_nextVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _rows[(stateName, grainId)] = new Row(payload, etag);
            return etag;
        }
    }

    private sealed record Row(BinaryData? Payload, string ETag);
}
