namespace Vetrina.Silo.Storage;

/// <summary>Our SQL schema scripts, embedded in the silo so that every start can apply them.</summary>
public static class SchemaScript
{
    public static string Read(string resourceName)
    {
        using var stream = typeof(SchemaScript).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"Embedded resource {resourceName} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
