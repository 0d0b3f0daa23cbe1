using System.Net;
using System.Net.Sockets;

namespace Vetrina.Api.Http;

/// <summary>
/// The client a per-address limit counts: its IPv4 address, or its IPv6 /64 network (one host usually holds a whole
/// /64, so counting single IPv6 addresses would let it make up new ones at will).
/// </summary>
public static class ClientAddress
{
    public static string Of(HttpContext context) => Of(context.Connection.RemoteIpAddress);

    public static string Of(IPAddress? address)
    {
        if (address is null)
        {
            return "";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
