namespace Vetrina.Grains.Common;

/// <summary>Why a grain refused a request; the API maps each kind to one HTTP status.</summary>
public enum FailureKind
{
    NotFound = 0,
    Forbidden = 1,
    Conflict = 2,
    Invalid = 3,
    PaymentDeclined = 4,
    Unavailable = 5,
}

[GenerateSerializer, Immutable, Alias("vetrina.failure")]
public sealed record Failure(
    [property: Id(0)] FailureKind Kind,
    [property: Id(1)] string Title,
    [property: Id(2)] string Detail)
{
    public static Failure NotFound(string what) => new(FailureKind.NotFound, "Not found", $"{what} does not exist.");
    public static Failure Forbidden(string detail) => new(FailureKind.Forbidden, "Forbidden", detail);
    public static Failure Conflict(string detail) => new(FailureKind.Conflict, "Conflict", detail);
    public static Failure Invalid(string detail) => new(FailureKind.Invalid, "Rule violated", detail);

    private const string NotEnoughStockTitle = "Not enough stock";

    public static Failure NotEnoughStock(string detail) => new(FailureKind.Conflict, NotEnoughStockTitle, detail);

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsStockShortage => Kind == FailureKind.Conflict && Title == NotEnoughStockTitle;
}

/// <summary>The answer of a grain operation that can be refused: a value or a failure, never both.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.outcome`1")]
public sealed record Outcome<T>([property: Id(0)] T? Value, [property: Id(1)] Failure? Failure)
{
    public bool Succeeded => Failure is null;

    public static Outcome<T> Ok(T value) => new(value, null);

    public static implicit operator Outcome<T>(Failure failure) => new(default, failure);
}
