using Npgsql;
using Vetrina.Tests.Pages;

namespace Vetrina.Tests.Cluster;

/// <summary>
/// Behind a load balancer each page request may reach another silo: a form token and a console cookie made by one
/// silo are accepted by the other, because the silos share one data-protection key ring in the database (each silo
/// process has a home folder of its own, as on machines of their own).
/// </summary>
public sealed class ConsoleAcrossSilosTests : IAsyncLifetime
{
    private SiloCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await SiloCluster.StartAsync(2, "console");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_cookie_and_form_token_from_one_silo_are_accepted_by_the_other()
    {
        var handle = "across" + Guid.NewGuid().ToString("N")[..8];
        var created = (await _cluster.Api.PostAsync("/api/creators", new { handle, followers = 10 })).Expect(HttpStatusCode.Created);
        var key = created.Str("apiKey");
        var (first, second) = (_cluster.Silos[0].Address, _cluster.Silos[1].Address);
        using var visitor = new PageSession(first);

        // The sign-in form comes from the first silo; its post, with that form's token, goes to the second.
        var form = (await visitor.GetAsync(new Uri(first, "/console/sign-in").ToString())).Expect(HttpStatusCode.OK);
        (await visitor.PostFormAsync(new Uri(second, "/console/sign-in").ToString(), form, ("key", key))).Expect(HttpStatusCode.Redirect);

        // The second silo's cookie opens the console on the first, whose form token the second accepts.
        var console = (await visitor.GetAsync(new Uri(first, "/console/creator").ToString())).Expect(HttpStatusCode.OK);
        Assert.Contains(handle, console.Text, StringComparison.Ordinal);
        (await visitor.PostFormAsync(new Uri(second, "/console/sign-out").ToString(), console)).Expect(HttpStatusCode.Redirect);
        var signedOut = (await visitor.GetAsync(new Uri(first, "/console/creator").ToString())).Expect(HttpStatusCode.Redirect);
        Assert.Contains("/console/sign-in", signedOut.Location!.ToString(), StringComparison.Ordinal);

        // One key for the cluster: the silos did not each make their own.
        await using var database = NpgsqlDataSource.Create(_cluster.ConnectionString);
        await using var count = database.CreateCommand("SELECT count(*) FROM vetrina_data_protection_keys");
        Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
    }
}
