namespace Vetrina.Grains.Live;

/// <summary>The kinds of event a live session's stream carries (the SSE <c>event</c> field).</summary>
public static class LiveEventKinds
{
    public const string Session = "session";
    public const string Pin = "pin";
    public const string Viewers = "viewers";
    public const string Deal = "deal";

    /// <summary>Sales figures: only for streams opened with the session creator's or the platform's key.</summary>
    public const string Stats = "stats";
}

[GenerateSerializer, Immutable, Alias("vetrina.live-pin")]
public sealed record LivePin([property: Id(0)] string? PinnedProductId);

/// <summary>
/// One event of a session's stream. <see cref="Id"/> is <c>{epoch}-{sequence}</c>: the sequence counts the events of one
/// activation of the session grain (its epoch), so a stream resumes from an id of the same epoch without a gap, and
/// from any other id with a fresh snapshot of the whole session.
/// </summary>
[GenerateSerializer, Immutable, Alias("vetrina.live-event")]
public sealed record LiveEvent(
    [property: Id(0)] string Epoch,
    [property: Id(1)] long Sequence,
    [property: Id(2)] string Kind,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] LiveSessionView? Session = null,
    [property: Id(5)] LivePin? Pin = null,
    [property: Id(6)] LiveViewers? Viewers = null,
    [property: Id(7)] LiveStats? Stats = null,
    [property: Id(8)] Deals.FlashDealView? Deal = null)
{
    public string Id => $"{Epoch}-{Sequence}";

    /// <summary>What the event's <c>data</c> field holds.</summary>
    public object Data => (object?)Session ?? (object?)Pin ?? (object?)Viewers ?? (object?)Deal ?? Stats!;

    public static bool TryParseId(string? id, out string epoch, out long sequence)
    {
        epoch = "";
        sequence = 0;
        var dash = id?.LastIndexOf('-') ?? -1;
        if (dash <= 0 || !long.TryParse(id.AsSpan(dash + 1), out sequence))
        {
            return false;
        }
        epoch = id![..dash];
        return true;
    }
}

/// <summary>A silo's feed of one session: the grain pushes each event once per subscribed silo.</summary>
public interface ILiveEventObserver : IGrainObserver
{
    [OneWay, Alias("live-events")]
    Task OnEventsAsync(LiveEvent[] events);
}
