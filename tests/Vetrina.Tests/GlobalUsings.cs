global using System.Net;
global using System.Text.Json;
global using Vetrina.Tests.Infrastructure;
global using Xunit;
