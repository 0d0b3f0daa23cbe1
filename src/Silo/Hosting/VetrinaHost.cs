using Orleans.Configuration;
using Vetrina.Api;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Common;
using Vetrina.Grains.Links;
using Vetrina.Grains.Live;
using Vetrina.Grains.Orders;
using Vetrina.Grains.Payments;
using Vetrina.Grains.Projections;
using Vetrina.Silo.Defaults;
using Vetrina.Silo.Storage;

namespace Vetrina.Silo.Hosting;

/// <summary>Builds the one process Vetrina runs as: an Orleans silo with the HTTP API co-hosted.</summary>
public static class VetrinaHost
{
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var settings = builder.Configuration.GetSection(VetrinaSettings.Section).Get<VetrinaSettings>() ?? new VetrinaSettings();
        var platformKey = PlatformKey(settings, builder.Environment);

        builder.AddServiceDefaults(settings);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(new CommerceClock(TimeProvider.System));
        builder.Services.AddSingleton<IPaymentGateway, BuiltInPaymentGateway>();
        builder.Services.Configure<CheckoutOptions>(builder.Configuration.GetSection("Vetrina:Checkout"));
        builder.Services.Configure<FulfilmentOptions>(builder.Configuration.GetSection("Vetrina:Fulfilment"));
        builder.Services.Configure<Vetrina.Grains.Payouts.PayoutOptions>(builder.Configuration.GetSection("Vetrina:Payouts"));
        builder.Services.Configure<ClickOptions>(builder.Configuration.GetSection("Vetrina:Clicks"));
        builder.Services.Configure<GroupCommitOptions>(o => o.Enabled = builder.Configuration.GetValue("Vetrina:GroupCommit", defaultValue: true));
        builder.Services.Configure<JournalOptions>(builder.Configuration.GetSection("Vetrina:Journal"));
        builder.Services.AddSingleton<CheckoutDesk>();
        builder.Services.Configure<LiveOptions>(builder.Configuration.GetSection("Vetrina:Live"));
        // Ad ids are signed with a key every silo shares: the platform key's, unless Vetrina:Ads:Secret names one.
        builder.Services.Configure<Vetrina.Grains.Ads.AdOptions>(builder.Configuration.GetSection("Vetrina:Ads"))
            .PostConfigure<Vetrina.Grains.Ads.AdOptions>(o => o.Secret = string.IsNullOrEmpty(o.Secret) ? platformKey : o.Secret);
        // Checkout session links likewise: Vetrina:Pages:Secret, or the platform key's.
        builder.Services.Configure<Vetrina.Api.Pages.PageOptions>(builder.Configuration.GetSection("Vetrina:Pages"))
            .PostConfigure<Vetrina.Api.Pages.PageOptions>(o => o.Secret = string.IsNullOrEmpty(o.Secret) ? platformKey : o.Secret);
        builder.Services.AddSingleton<LiveEventHub>();

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = settings.MinimumReminderPeriod);
            // Failure detection and call timeouts can be tuned per deployment (the cluster tests shorten them).
            silo.Services.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Vetrina:Membership"));
            silo.Services.Configure<SiloMessagingOptions>(builder.Configuration.GetSection("Vetrina:Messaging"));
            // How long an idle grain stays in memory (CollectionAge) bounds the memory of a wide catalog.
            silo.Services.Configure<GrainCollectionOptions>(builder.Configuration.GetSection("Vetrina:GrainCollection"));
            silo.UseVetrinaStorage(settings);
            silo.AddSiloDefaults(settings, builder.Configuration);
        });

        // After Orleans, so that they stop first: the last clicks and projections still reach their grains.
        builder.Services.AddSingleton<ClickTally>().AddHostedService(services => services.GetRequiredService<ClickTally>());
        builder.Services.AddSingleton<ClickDesk>().AddHostedService(services => services.GetRequiredService<ClickDesk>());
        builder.Services.AddSingleton<SalesProjector>().AddHostedService(services => services.GetRequiredService<SalesProjector>());
        builder.Services.AddSingleton<Vetrina.Grains.Ads.AdDesk>().AddHostedService(services => services.GetRequiredService<Vetrina.Grains.Ads.AdDesk>());
        builder.Services.AddHostedService<AbandonedCharges>();
        builder.Services.AddSingleton<Vetrina.Grains.Reports.ReportReader>();
        builder.Services.AddVetrinaApi(platformKey);
        return builder;
    }

    public static WebApplication UseVetrina(this WebApplication app)
    {
        app.UseServiceDefaults();
        app.UseVetrinaApi();
        app.MapDefaultEndpoints();
        return app;
    }

    private static string PlatformKey(VetrinaSettings settings, IWebHostEnvironment environment)
    {
        if (!string.IsNullOrWhiteSpace(settings.PlatformKey))
        {
            return settings.PlatformKey;
        }
        if (!environment.IsDevelopment())
        {
            throw new InvalidOperationException(
                "Vetrina:PlatformKey is not set. Set it (for example with the environment variable Vetrina__PlatformKey) or run in the Development environment.");
        }
        var generated = "vp_" + Identifiers.RandomBase62(32);
        // Printed, not logged: the key is a secret and logs are shipped elsewhere.
        Console.WriteLine($"Development platform key: {generated}");
        return generated;
    }
}
