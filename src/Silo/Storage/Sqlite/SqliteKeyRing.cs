using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Data.Sqlite;

namespace Vetrina.Silo.Storage.Sqlite;

/// <summary>
/// The data-protection key ring of the embedded default (vetrina_data_protection_keys in sqlite-journal.sql), kept
/// in the database file: console cookies and form tokens stay valid across restarts.
/// </summary>
public sealed class SqliteKeyRing(string connectionString) : IXmlRepository
{
    // The key manager calls these synchronously, rarely: at start, when its cached ring expires, and to add a key.
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT xml FROM vetrina_data_protection_keys ORDER BY id";
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }
        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO vetrina_data_protection_keys (friendly_name, xml) VALUES ($name, $xml)";
        command.Parameters.AddWithValue("$name", friendlyName);
        command.Parameters.AddWithValue("$xml", element.ToString(SaveOptions.DisableFormatting));
        command.ExecuteNonQuery();
    }
}
