namespace Vetrina.Grains.Common;

public static class StateStorage
{
    /// <summary>The one grain storage provider every Vetrina grain writes to (SQLite, PostgreSQL or memory).</summary>
    public const string Name = "vetrina";
}
