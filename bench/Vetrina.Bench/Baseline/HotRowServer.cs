using Npgsql;

namespace Vetrina.Bench.Baseline;

/// <summary>
/// Baseline 2 of issue 4, the classic design: every buy is one PostgreSQL transaction on one hot stock row
/// (a conditional UPDATE, then an order INSERT), answered 201 after commit or 409 when stock is short.
/// It answers the same route and body as Vetrina's one-tap buy, so the same driver runs against it.
/// Started by the benchmark as its own process: <c>Vetrina.Bench hot-row-server --urls=... --connection=...</c>.
/// </summary>
public static class HotRowServer
{
    public const string Command = "hot-row-server";

    public const int ProductId = 1;

    public const string Schema = """
        CREATE TABLE stock (id integer PRIMARY KEY, available integer NOT NULL CHECK (available >= 0), stocked integer NOT NULL);
        CREATE TABLE orders (
            id bigserial PRIMARY KEY,
            product_id integer NOT NULL REFERENCES stock (id),
            shopper_id text NOT NULL,
            idempotency_key text NOT NULL,
            quantity integer NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (shopper_id, idempotency_key));
        """;

    private sealed record BuyBody(string? ShopperId, int? Quantity);

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var connection = builder.Configuration["connection"] ?? throw new InvalidOperationException("--connection is required.");
        // The same connection tuning as the engine's default (prepared statements, no reset on close), so the
        // baseline is not slower for want of it.
        builder.Services.AddSingleton(NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(connection) { MaxAutoPrepare = 32, NoResetOnClose = true }.ConnectionString));
        var app = builder.Build();
        app.MapGet("/ready", () => TypedResults.Ok());
        app.MapPost("/api/links/{code}/buy", BuyAsync);
        await app.RunAsync();
        return 0;
    }

    private static async Task<IResult> BuyAsync(string code, BuyBody body, HttpRequest request, NpgsqlDataSource database)
    {
        var key = request.Headers["Idempotency-Key"].ToString();
        if (string.IsNullOrEmpty(key) || string.IsNullOrEmpty(body.ShopperId) || body.Quantity is not (> 0 and <= 10_000))
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad request");
        }
        await using var connection = await database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand("UPDATE stock SET available = available - @q WHERE id = @id AND available >= @q", connection, transaction))
        {
            take.Parameters.AddWithValue("q", body.Quantity.Value);
            take.Parameters.AddWithValue("id", ProductId);
            if (await take.ExecuteNonQueryAsync() == 0)
            {
                await transaction.RollbackAsync();
                return TypedResults.Problem(statusCode: 409, title: "Not enough stock");
            }
        }
        try
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO orders (product_id, shopper_id, idempotency_key, quantity) VALUES (@id, @shopper, @key, @q) RETURNING id",
                connection, transaction);
            insert.Parameters.AddWithValue("id", ProductId);
            insert.Parameters.AddWithValue("shopper", body.ShopperId);
            insert.Parameters.AddWithValue("key", key);
            insert.Parameters.AddWithValue("q", body.Quantity.Value);
            var orderId = (long)(await insert.ExecuteScalarAsync())!;
            await transaction.CommitAsync();
            return TypedResults.Created($"/orders/{orderId}", new { orderId, shopperId = body.ShopperId, quantity = body.Quantity });
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A retry of a buy that committed: undo this attempt's stock change and answer the first order.
            await transaction.RollbackAsync();
            await using var existing = new NpgsqlCommand("SELECT id, quantity FROM orders WHERE shopper_id = @shopper AND idempotency_key = @key", connection);
            existing.Parameters.AddWithValue("shopper", body.ShopperId);
            existing.Parameters.AddWithValue("key", key);
            await using var reader = await existing.ExecuteReaderAsync();
            await reader.ReadAsync();
            return TypedResults.Created($"/orders/{reader.GetInt64(0)}", new { orderId = reader.GetInt64(0), shopperId = body.ShopperId, quantity = reader.GetInt32(1) });
        }
    }
}
