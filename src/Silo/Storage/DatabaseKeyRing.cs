using System.Data.Common;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Vetrina.Silo.Storage;

/// <summary>
/// The data-protection key ring in the database (vetrina_data_protection_keys in both journal scripts): every silo
/// reads and writes the same keys, so a console cookie or form token made by one silo is read by any other, and the
/// embedded SQLite file keeps them across restarts.
/// </summary>
public sealed class DatabaseKeyRing(Func<DbConnection> connect) : IXmlRepository
{
    // The key manager calls these synchronously, rarely: at start, when its cached ring expires, and to add a key.
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = Open();
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
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO vetrina_data_protection_keys (friendly_name, xml) VALUES (@name, @xml)";
        Add(command, "@name", friendlyName);
        Add(command, "@xml", element.ToString(SaveOptions.DisableFormatting));
        command.ExecuteNonQuery();
    }

    private DbConnection Open()
    {
        var connection = connect();
        connection.Open();
        return connection;
    }

    private static void Add(DbCommand command, string name, string value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
