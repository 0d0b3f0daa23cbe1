using Vetrina.Silo.Hosting;

var app = VetrinaHost.CreateBuilder(args).Build().UseVetrina();
await app.RunAsync();
