using Vetrina.Bench.Load;

namespace Vetrina.Bench.Scenarios;

/// <summary>
/// The JSON ceilings: the one-tap buy and the click against <see cref="Baseline.JsonCeilingServer"/>, with the very
/// requests of the engine's runs (same driver sources, key, headers and bodies). Nothing sits behind their HTTP and
/// JSON, so they are what the engine's buy and click would reach if the grains, state and journal cost nothing.
/// </summary>
public sealed partial class ScenarioRunner
{
    public const string JsonBuyCeiling = "JSON buy ceiling";
    public const string JsonClickCeiling = "JSON click ceiling";

    private const string JsonCeilingCode = "jsonCeil01";

    private async Task JsonBuyCeilingAsync(PointResult point, int c)
    {
        await using var ceiling = await engines.StartJsonCeilingAsync(HugeStock);
        var ledger = new WriteLedger();
        var requests = new VetrinaRequests($"127.0.0.1:{ceiling.Server.Port}", ceiling.PlatformKey);
        var load = await LoadAsync(ceiling.Server,
            [new ConnectionGroup("buy", c, ["POST /api/links/{code}/buy"], i => new ViralBuys(requests, JsonCeilingCode, $"jb{c}", i, ledger))]);
        Record(point, load, "POST /api/links/{code}/buy: in-memory counter, order JSON");
        var counts = await ceiling.ReadCountsAsync();
        var sold = counts.Stocked - counts.Available;
        point.Checks.Add(Invariants.CheckCount("units taken equal the buys answered 201", sold, ledger.Succeeded, ledger.Unknown.Count));
        point.Checks.Add(new Check("no oversell", counts.Available >= 0, $"available {counts.Available}, stocked {counts.Stocked}"));
        point.Notes.Add($"{ledger.Succeeded} buys answered 201 over the whole run (warm-up included), {ledger.Refused} refused, {ledger.Unknown.Count} lost (no replay: no idempotency store)");
    }

    private async Task JsonClickCeilingAsync(PointResult point, int c)
    {
        await using var ceiling = await engines.StartJsonCeilingAsync(HugeStock);
        var ledger = new WriteLedger();
        var requests = new VetrinaRequests($"127.0.0.1:{ceiling.Server.Port}", ceiling.PlatformKey);
        var load = await LoadAsync(ceiling.Server,
            [new ConnectionGroup("click", c, ["POST /api/links/{code}/clicks"], i => new LinkClicks(requests, JsonCeilingCode, $"jc{c}", i, ledger))]);
        Record(point, load, "POST /api/links/{code}/clicks: click JSON");
        var counts = await ceiling.ReadCountsAsync();
        point.Checks.Add(Invariants.CheckCount("clicks counted equal the clicks answered 201", counts.Clicks, ledger.Clicks, ledger.UnknownClicks));
        point.Notes.Add($"{ledger.Clicks} clicks answered 201 over the whole run, {ledger.UnknownClicks} lost answers");
    }
}
