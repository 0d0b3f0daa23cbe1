namespace Vetrina.Grains.Common;

public static class IdPrefixes
{
    public const string Brand = "b_";
    public const string Product = "p_";
    public const string Creator = "c_";
    public const string Order = "o_";
    public const string Checkout = "k_";
    public const string LiveSession = "l_";
    public const string FlashDeal = "f_";
    public const string PayoutRun = "r_";
    public const string Payout = "y_";
    public const string CollaborationPlan = "pl_";
    public const string Campaign = "cm_";
    public const string Ad = "ad_";
    public const int LinkCodeLength = 10;
}
