using System.Data.Common;
using Emporium.Features.Webhooks;
using Emporium.Infrastructure.Persistence;

namespace Emporium.Infrastructure.Webhooks;

/// <summary>
/// The dispatcher's SQL: fan-out, batch claim, batched outcome writes. Everything after a claim is guarded by the lease
/// (lease_owner, attempts, SENDING), so a worker that lost its lease changes nothing. PostgreSQL: FOR UPDATE SKIP LOCKED
/// lets several workers fan out and claim at once without waiting on each other; SQLite has one writer at a time.
/// </summary>
public sealed class WebhookDeliveryStore(EmporiumDbContext db) : IWebhookDeliveryStore
{

    // One statement: take a batch of undispatched events, add a delivery per matching active subscription, mark them.
    private const string PostgresFanOut = """
        WITH batch AS (
            SELECT id, type FROM events WHERE dispatched_at IS NULL ORDER BY id LIMIT @batch FOR UPDATE SKIP LOCKED
        ), added AS (
            INSERT INTO webhook_deliveries (subscription_id, event_id, status, attempts, next_attempt_at, created_at, updated_at)
            SELECT s.id, b.id, 'PENDING', 0, @now, @now, @now
            FROM batch b JOIN webhook_subscriptions s
              ON s.is_active AND (s.event_types = '*' OR b.type = ANY (string_to_array(s.event_types, ' ')))
            RETURNING 1
        )
        UPDATE events SET dispatched_at = @now WHERE id IN (SELECT id FROM batch)
        """;

    // SQLite: the INSERT takes the write lock, so both statements see the same batch inside the transaction.
    private const string SqliteFanOutInsert = """
        INSERT INTO webhook_deliveries (subscription_id, event_id, status, attempts, next_attempt_at, created_at, updated_at)
        SELECT s.id, b.id, 'PENDING', 0, @now, @now, @now
        FROM (SELECT id, type FROM events WHERE dispatched_at IS NULL ORDER BY id LIMIT @batch) b
        JOIN webhook_subscriptions s
          ON s.is_active AND (s.event_types = '*' OR instr(' ' || s.event_types || ' ', ' ' || b.type || ' ') > 0)
        """;

    private const string SqliteFanOutMark = """
        UPDATE events SET dispatched_at = @now
        WHERE id IN (SELECT id FROM events WHERE dispatched_at IS NULL ORDER BY id LIMIT @batch)
        """;

    // Per active subscription, at most its free slots of due deliveries (PENDING and due, or SENDING with an expired
    // lease: next_attempt_at holds the lease expiry), so one busy or slow subscription never fills a batch; the longest
    // due first across subscriptions, so that when the batch is full the subscriptions scanned first do not take every
    // slot while the others wait. The attempt rows are written by the same statement, before anything is sent.
    private const string PostgresClaim = """
        WITH slots AS (
            SELECT s.id, GREATEST(@per_subscription - COALESCE(b.busy, 0), 0) AS free
            FROM webhook_subscriptions s
            LEFT JOIN unnest(@busy_ids, @busy_counts) AS b(id, busy) ON b.id = s.id
            WHERE s.is_active
        ), candidates AS (
            SELECT d.id FROM slots
            CROSS JOIN LATERAL (
                SELECT id, next_attempt_at FROM webhook_deliveries
                WHERE subscription_id = slots.id AND status IN ('PENDING', 'SENDING') AND next_attempt_at <= @now
                ORDER BY next_attempt_at
                LIMIT slots.free) d
            ORDER BY d.next_attempt_at, d.id
            LIMIT @max
        ), picked AS (
            -- Only the chosen rows are locked (read again as they are now); one another worker holds is left to it.
            SELECT d.id FROM webhook_deliveries d
            WHERE d.id IN (SELECT id FROM candidates) AND d.status IN ('PENDING', 'SENDING') AND d.next_attempt_at <= @now
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE webhook_deliveries d
            SET status = 'SENDING', attempts = d.attempts + 1, lease_owner = @owner, lease_expires_at = @expires,
                next_attempt_at = @expires, updated_at = @now
            FROM picked WHERE d.id = picked.id
            RETURNING d.id, d.attempts, d.subscription_id, d.event_id
        ), logged AS (
            INSERT INTO webhook_attempts (delivery_id, number, started_at, worker)
            SELECT id, attempts, @now, @owner FROM claimed
        ), interrupted AS (
            UPDATE webhook_attempts a SET failure = 'interrupted', error = @interrupted
            FROM claimed c WHERE a.delivery_id = c.id AND a.number = c.attempts - 1 AND a.finished_at IS NULL AND a.failure IS NULL
        )
        SELECT c.id, c.attempts, s.id, s.url, s.secret, s.previous_secret, s.previous_secret_expires_at, e.event_id, e.type, e.occurred_at, e.data, e.trace_parent
        FROM claimed c JOIN webhook_subscriptions s ON s.id = c.subscription_id JOIN events e ON e.id = c.event_id
        """;

    private const string SqliteClaim = """
        UPDATE webhook_deliveries
        SET status = 'SENDING', attempts = attempts + 1, lease_owner = @owner, lease_expires_at = @expires,
            next_attempt_at = @expires, updated_at = @now
        WHERE id IN (
            SELECT id FROM (
                SELECT d.id, d.subscription_id, d.next_attempt_at,
                       row_number() OVER (PARTITION BY d.subscription_id ORDER BY d.next_attempt_at, d.id) AS n
                FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.is_active
                WHERE d.status IN ('PENDING', 'SENDING') AND d.next_attempt_at <= @now) r
            WHERE r.n <= @per_subscription - COALESCE(json_extract(@busy, '$."' || r.subscription_id || '"'), 0)
            ORDER BY r.next_attempt_at, r.id
            LIMIT @max)
        RETURNING id
        """;

    private const string SqliteClaimLog = """
        INSERT INTO webhook_attempts (delivery_id, number, started_at, worker)
        SELECT id, attempts, @now, @owner FROM webhook_deliveries WHERE id IN (SELECT value FROM json_each(@ids));
        UPDATE webhook_attempts SET failure = 'interrupted', error = @interrupted
        WHERE finished_at IS NULL AND failure IS NULL AND delivery_id IN (SELECT value FROM json_each(@ids))
          AND number < (SELECT d.attempts FROM webhook_deliveries d WHERE d.id = webhook_attempts.delivery_id);
        SELECT d.id, d.attempts, s.id, s.url, s.secret, s.previous_secret, s.previous_secret_expires_at, e.event_id, e.type, e.occurred_at, e.data, e.trace_parent
        FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id JOIN events e ON e.id = d.event_id
        WHERE d.id IN (SELECT value FROM json_each(@ids))
        """;

    private const string InterruptedError = "no answer recorded: the worker stopped during the attempt (its lease expired)";

    private const string PostgresRows = """
        jsonb_to_recordset(@rows::jsonb) AS v(delivery_id bigint, number integer, finished_at timestamptz, status_code integer,
            failure text, error text, duration_ms integer, response_body text, next_status text, next_attempt_at timestamptz, last_error text)
        """;

    private const string SqliteRows = """
        (SELECT json_extract(value, '$.delivery_id') AS delivery_id, json_extract(value, '$.number') AS number,
                json_extract(value, '$.finished_at') AS finished_at, json_extract(value, '$.status_code') AS status_code,
                json_extract(value, '$.failure') AS failure, json_extract(value, '$.error') AS error,
                json_extract(value, '$.duration_ms') AS duration_ms, json_extract(value, '$.response_body') AS response_body,
                json_extract(value, '$.next_status') AS next_status, json_extract(value, '$.next_attempt_at') AS next_attempt_at,
                json_extract(value, '$.last_error') AS last_error
         FROM json_each(@rows)) AS v
        """;

    private const string RecordAttempts = """
        UPDATE webhook_attempts SET finished_at = v.finished_at, status_code = v.status_code, failure = v.failure, error = v.error,
            duration_ms = v.duration_ms, response_body = v.response_body
        FROM {0}
        WHERE webhook_attempts.delivery_id = v.delivery_id AND webhook_attempts.number = v.number AND webhook_attempts.delivery_id {1}
        """;

    // The lease guard is lease_owner + attempts: lease_owner is set only while a delivery is SENDING. Saying
    // status = 'SENDING' as well lets the planner pick the partial "due" index, whose statistics lag far behind a queue
    // that grows by thousands a second, and scan every waiting delivery for each batch (0.3-0.8 s per 1,000 outcomes).
    private const string RecordDeliveries = """
        UPDATE webhook_deliveries SET status = v.next_status, next_attempt_at = v.next_attempt_at, last_status_code = v.status_code,
            last_error = v.last_error, lease_owner = NULL, lease_expires_at = NULL, updated_at = @now,
            succeeded_at = CASE WHEN v.next_status = 'SUCCEEDED' THEN v.finished_at ELSE webhook_deliveries.succeeded_at END
        FROM {0}
        WHERE webhook_deliveries.id = v.delivery_id AND webhook_deliveries.attempts = v.number
          AND webhook_deliveries.lease_owner = @owner AND webhook_deliveries.id {1}
        """;

    // Deliveries of a disabled (or switched off) subscription are not sent; recover re-queues them once it is active.
    private const string SkipInactive = """
        UPDATE webhook_deliveries
        SET status = 'FAILED', lease_owner = NULL, lease_expires_at = NULL, updated_at = @now,
            last_error = 'not sent: the subscription is disabled'
                || COALESCE(' (' || (SELECT s.disabled_reason FROM webhook_subscriptions s WHERE s.id = webhook_deliveries.subscription_id) || ')', '')
        WHERE status IN ('PENDING', 'SENDING') AND (status = 'PENDING' OR next_attempt_at <= @now)
          AND subscription_id IN (SELECT id FROM webhook_subscriptions WHERE NOT is_active)
        """;

    private bool IsPostgres => db.Database.IsNpgsql();

    /// <summary>Fans out one batch of undispatched events; returns how many events it dispatched.</summary>
    public async Task<int> FanOutAsync(int batch, DateTime now, CancellationToken cancellationToken)
    {
        if (IsPostgres)
        {
            return await db.Database.ExecuteAsync(PostgresFanOut, cancellationToken, ("batch", batch), ("now", now));
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteAsync(SqliteFanOutInsert, cancellationToken, ("batch", batch), ("now", now));
        var marked = await db.Database.ExecuteAsync(SqliteFanOutMark, cancellationToken, ("batch", batch), ("now", now));
        await transaction.CommitAsync(cancellationToken);
        return marked;
    }

    /// <summary>Fails the waiting deliveries of subscriptions that are not active; returns how many.</summary>
    public async Task<int> SkipInactiveAsync(DateTime now, CancellationToken cancellationToken)
    {
        return await db.Database.ExecuteAsync(SkipInactive, cancellationToken, ("now", now));
    }

    /// <summary>
    /// Claims up to <paramref name="max"/> due deliveries, at most <paramref name="perSubscription"/> minus
    /// <paramref name="busy"/>[subscription] per subscription, and logs their attempts.
    /// </summary>
    public async Task<List<ClaimedDelivery>> ClaimAsync(
        string owner, DateTime now, TimeSpan lease, int perSubscription, IReadOnlyDictionary<long, int> busy, int max, CancellationToken cancellationToken)
    {
        var claimed = new List<ClaimedDelivery>();
        if (IsPostgres)
        {
            await using var command = await db.Database.CommandAsync(PostgresClaim, cancellationToken,
                ("owner", owner), ("now", now), ("expires", now + lease), ("per_subscription", perSubscription), ("max", max),
                ("busy_ids", busy.Keys.ToArray()), ("busy_counts", busy.Values.ToArray()), ("interrupted", InterruptedError));
            await ReadClaimsAsync(command, claimed, cancellationToken);
            return claimed;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var ids = new List<long>();
        var busyJson = JsonSerializer.Serialize(busy.ToDictionary(pair => pair.Key.ToString(CultureInfo.InvariantCulture), pair => pair.Value));
        await using (var claim = await db.Database.CommandAsync(SqliteClaim, cancellationToken,
            ("owner", owner), ("now", now), ("expires", now + lease), ("per_subscription", perSubscription), ("max", max), ("busy", busyJson)))
        await using (var reader = await claim.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        if (ids.Count > 0)
        {
            await using var log = await db.Database.CommandAsync(SqliteClaimLog, cancellationToken,
                ("owner", owner), ("now", now), ("ids", JsonSerializer.Serialize(ids)), ("interrupted", InterruptedError));
            await ReadClaimsAsync(log, claimed, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return claimed;
    }

    /// <summary>
    /// Records a batch of outcomes in one transaction: the attempts, the deliveries (guarded by the lease), and what they
    /// mean for their subscriptions (a success clears failing_since; a failure starts it; 410 Gone or failing for longer
    /// than <paramref name="disableAfter"/> disables the subscription and fails its waiting deliveries).
    /// </summary>
    public async Task RecordAsync(string owner, IReadOnlyList<DeliveryOutcome> outcomes, DateTime now, TimeSpan disableAfter, CancellationToken cancellationToken)
    {
        var rows = JsonSerializer.Serialize(outcomes.Select(o => new Dictionary<string, object?>
        {
            ["delivery_id"] = o.DeliveryId,
            ["number"] = o.Attempt,
            ["finished_at"] = Timestamp(o.FinishedAt),
            ["status_code"] = o.Result.StatusCode,
            ["failure"] = o.Interrupted ? WebhookFailures.Interrupted : WebhookFailures.Name(o.Result.Failure),
            ["error"] = Truncate(o.Result.Error),
            ["duration_ms"] = (int)Math.Min(int.MaxValue, Math.Round(o.Result.Duration.TotalMilliseconds)),
            ["response_body"] = o.Result.ResponseBody,
            ["next_status"] = o.Next.ToString(),
            ["next_attempt_at"] = Timestamp(o.NextAttemptAt),
            ["last_error"] = Truncate(o.Error),
        }));
        var from = IsPostgres ? PostgresRows : SqliteRows;
        // The id list lets the planner drive the update from the primary key; joined to the JSON rows alone, it could pick
        // a nested loop that re-reads the function for every row of the table (seconds per batch at 100k deliveries).
        var ids = outcomes.Select(o => o.DeliveryId).ToArray();
        var inIds = IsPostgres ? "= ANY (@ids)" : "IN (SELECT value FROM json_each(@ids))";
        object idsValue = IsPostgres ? ids : JsonSerializer.Serialize(ids);

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Deliveries before attempts, the order the claim locks them in (it marks a reclaimed delivery's unanswered attempt
        // Interrupted), so an outcome recorded after its lease expired cannot deadlock with the claim that took it over.
        await db.Database.ExecuteAsync(
            RecordDeliveries.Replace("{0}", from, StringComparison.Ordinal).Replace("{1}", inIds, StringComparison.Ordinal),
            cancellationToken, ("rows", rows), ("now", now), ("owner", owner), ("ids", idsValue));
        await db.Database.ExecuteAsync(
            RecordAttempts.Replace("{0}", from, StringComparison.Ordinal).Replace("{1}", inIds, StringComparison.Ordinal),
            cancellationToken, ("rows", rows), ("ids", idsValue));

        var real = outcomes.Where(o => !o.Interrupted).ToList();
        var succeeded = real.Where(o => o.Result.Succeeded).Select(o => o.SubscriptionId).Distinct().ToList();
        var failing = real.Where(o => !o.Result.Succeeded).Select(o => o.SubscriptionId).Distinct().Except(succeeded).ToList();
        var gone = real.Where(o => o.Gone).Select(o => o.SubscriptionId).Distinct().ToList();
        var subscriptions = db.Set<WebhookSubscription>();
        if (succeeded.Count > 0)
        {
            await subscriptions.Where(s => succeeded.Contains(s.Id) && s.FailingSince != null)
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.FailingSince, (DateTime?)null), cancellationToken);
        }

        var disabled = 0;
        if (failing.Count > 0)
        {
            var firstFailure = real.Where(o => !o.Result.Succeeded).Min(o => o.FinishedAt);
            await subscriptions.Where(s => failing.Contains(s.Id) && s.FailingSince == null)
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.FailingSince, firstFailure), cancellationToken);
            var cutoff = now - disableAfter;
            var reason = $"failing without a success for longer than Webhooks:DisableAfter ({disableAfter:c})";
            disabled += await subscriptions.Where(s => failing.Contains(s.Id) && s.IsActive && s.FailingSince < cutoff)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(s => s.IsActive, false)
                    .SetProperty(s => s.DisabledReason, reason)
                    .SetProperty(s => s.Version, s => s.Version + 1)
                    .SetProperty(s => s.UpdatedAt, now), cancellationToken);
        }

        if (gone.Count > 0)
        {
            disabled += await subscriptions.Where(s => gone.Contains(s.Id) && s.IsActive)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(s => s.IsActive, false)
                    .SetProperty(s => s.DisabledReason, WebhookDeliveries.Disabled410)
                    .SetProperty(s => s.Version, s => s.Version + 1)
                    .SetProperty(s => s.UpdatedAt, now), cancellationToken);
        }

        if (disabled > 0)
        {
            await SkipInactiveAsync(now, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static string? Truncate(string? text) =>
        text is { Length: > WebhookDeliveryConfiguration.ErrorLength } ? text[..WebhookDeliveryConfiguration.ErrorLength] : text;

    // Each provider's own text for a timestamp: ISO 8601 for PostgreSQL's timestamptz; EF's format on SQLite, whose
    // timestamps are compared as text.
    private string Timestamp(DateTime value) => IsPostgres
        ? DateTime.SpecifyKind(value, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture)
        : value.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);

    private static async Task ReadClaimsAsync(DbCommand command, List<ClaimedDelivery> claimed, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedDelivery(
                reader.GetInt64(0),
                Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture),
                reader.GetInt64(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : DateTime.SpecifyKind(reader.GetDateTime(6), DateTimeKind.Utc),
                reader.GetString(7),
                reader.GetString(8),
                DateTime.SpecifyKind(reader.GetDateTime(9), DateTimeKind.Utc),
                reader.GetString(10),
                reader.IsDBNull(11) ? null : reader.GetString(11)));
        }
    }
}
