using Orleans.Serialization;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Common;
using Vetrina.Grains.Journal;
using Vetrina.Grains.ExactlyOnce;

namespace Vetrina.Grains.Sales;

[GenerateSerializer, Alias("vetrina.brand-sales-state")]
public sealed class BrandSalesState
{
    [Id(0)] public Dictionary<string, ProductSales> ByProduct { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public Dictionary<string, CreatorSales> ByCreator { get; set; } = new(StringComparer.Ordinal);
    [Id(2)] public AppliedOperations Applied { get; set; } = new();
    [Id(3)] public JournalWatermarks Projected { get; set; } = new();
}

/// <summary>A brand's sales by product and by creator; every sale of the brand lands here, so writes are group-committed.</summary>
[Reentrant]
public sealed class BrandSalesGrain(
    [PersistentState("brand-sales", StateStorage.Name)] IPersistentState<BrandSalesState> state,
    CommerceClock clock,
    IOptions<GroupCommitOptions> groupCommit,
    DeepCopier copier) : Grain, IBrandSalesGrain
{
    private SalesReport _published = new([], []);
    private BrandSalesState? _live;
    private GroupCommit? _commit;

    /// <summary>The live state every call changes; storage gets copies of it (see <see cref="DurableState.GroupCommit{T}"/>).</summary>
    private BrandSalesState S => _live ??= state.State;

    private GroupCommit Commit => _commit ??= state.GroupCommit(this, groupCommit.Value, copier, S, () =>
    {
        var report = Report();
        return () => _published = report;
    });

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _published = Report();
        return Task.CompletedTask;
    }

    public Task ApplyAsync(SalesEntry entry) =>
        S.Applied.EffectAsync(entry.OperationId, () => Add(entry), Commit, GrainFactory, this.AsReference<IEffectTarget>(), clock.UtcNow);

    public Task ProjectAsync(JournalPosition position, SalesEntry entry) => S.Projected.BatchAsync(position, () => Add(entry), Commit);

    private void Add(SalesEntry entry)
    {
        var s = S;
        foreach (var delta in entry.ProductDeltas)
        {
            var current = s.ByProduct.GetValueOrDefault(delta.ProductId) ?? new ProductSales(delta.ProductId, 0, 0);
            s.ByProduct[delta.ProductId] = current with { Units = current.Units + delta.Units, GmvMinor = current.GmvMinor + delta.GmvMinor };
        }
        foreach (var delta in entry.CreatorDeltas)
        {
            var current = s.ByCreator.GetValueOrDefault(delta.CreatorId) ?? new CreatorSales(delta.CreatorId, 0, 0, 0, 0);
            s.ByCreator[delta.CreatorId] = current with
            {
                Orders = current.Orders + delta.Orders,
                Units = current.Units + delta.Units,
                GmvMinor = current.GmvMinor + delta.GmvMinor,
                CommissionMinor = current.CommissionMinor + delta.CommissionMinor,
            };
        }
    }

    public Task ForgetOperationsAsync(string[] operationIds) => S.Applied.ForgetAsync(operationIds, Commit);

    /// <summary>Forgotten ids that no write carried yet are written now, so stored state does not keep growing.</summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Commit.WriteLazyChangesAsync(reason);

    public Task<SalesReport> GetReportAsync() => Task.FromResult(_published);

    private SalesReport Report() =>
        new(
            S.ByProduct.Values.OrderBy(p => p.ProductId, StringComparer.Ordinal).ToArray(),
            S.ByCreator.Values.OrderBy(c => c.CreatorId, StringComparer.Ordinal).ToArray());
}
