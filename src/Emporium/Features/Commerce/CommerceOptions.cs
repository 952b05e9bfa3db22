using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Commerce;

/// <summary>The store's limits for carts, checkout and idempotency keys (section Commerce).</summary>
public sealed class CommerceOptions
{
    public const string Section = "Commerce";

    /// <summary>Most units of one variant a cart line (and so an order line) may hold.</summary>
    [Range(1, 100_000)]
    public int MaxQuantity { get; set; } = 100;

    /// <summary>Most lines one cart may hold.</summary>
    [Range(1, 1_000)]
    public int MaxCartLines { get; set; } = 100;

    /// <summary>How long a checkout's Idempotency-Key is remembered (and its answer replayed).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan IdempotencyKeyLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often worker processes delete expired idempotency keys.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "1.00:00:00")]
    public TimeSpan IdempotencyKeyPurgeInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Attempts of one checkout transaction when the database answers with a deadlock, a serialization failure or a busy
    /// file: retried inside the service with jitter, never a client's problem unless every attempt fails.
    /// </summary>
    [Range(1, 50)]
    public int CheckoutAttempts { get; set; } = 8;

    /// <summary>
    /// How long an order may stay pending (unpaid) before workers cancel it and put its units back into stock; 0 keeps
    /// unpaid orders until staff cancel them (a store taking slow payments such as bank transfers).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan UnpaidOrderLifetime { get; set; } = TimeSpan.FromDays(3);

    /// <summary>How often worker processes look for orders past <see cref="UnpaidOrderLifetime"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan UnpaidOrderSweepInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Most pending (unpaid) orders one customer may have; a checkout beyond is 409 (one account cannot hold a product's whole stock).</summary>
    [Range(1, 10_000)]
    public int MaxUnpaidOrders { get; set; } = 10;
}
