namespace Vetrina.Grains.Common;

/// <summary>
/// The clock of commerce rules (attribution, return windows, reservations). It is a separate service
/// from Orleans' own time so that tests can move business time with a fake <see cref="TimeProvider"/>
/// without freezing the runtime's membership and timers.
/// </summary>
public sealed class CommerceClock(TimeProvider time)
{
    public TimeProvider Time { get; } = time;

    public DateTimeOffset UtcNow => Time.GetUtcNow();
}
