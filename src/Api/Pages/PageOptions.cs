namespace Vetrina.Api.Pages;

/// <summary>The hosted pages' settings (section <c>Vetrina:Pages</c>).</summary>
public sealed class PageOptions
{
    /// <summary>The key checkout session links are signed with; every silo must share it. The platform key's when empty.</summary>
    public string Secret { get; set; } = "";

    /// <summary>How long a checkout session link opens the buy page.</summary>
    public TimeSpan CheckoutSessionLifetime { get; set; } = TimeSpan.FromMinutes(15);
}
