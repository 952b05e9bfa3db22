using System.Data.Common;
using System.Runtime.CompilerServices;
using Emporium.Features.Catalog.Attributes;
using Emporium.Features.Catalog.Images;
using Emporium.Features.Catalog.Variants;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Emporium.Platform.Persistence;

namespace Emporium.Features.Catalog.Caching;

/// <summary>
/// Writes that change cached catalog reads without going through the change tracker (ExecuteUpdate, ExecuteDelete, bulk
/// statements) say so here, before the statement (decision 0019). Changes to tracked products, variants, images, category
/// links, brands, categories and attributes are found by <see cref="CatalogChangeInterceptor"/> on its own.
/// </summary>
public static class CatalogChanges
{
    internal sealed class Pending
    {
        public HashSet<long> Products { get; } = [];

        public bool Everything { get; set; }

        public List<EntityEntry> Saving { get; } = [];

        public bool SavingEverything { get; set; }

        public bool IsEmpty => Products.Count == 0 && !Everything;
    }

    private static readonly ConditionalWeakTable<DbContext, Pending> Table = [];

    /// <summary>The product's cached reads are superseded once the change about to be made through <paramref name="db"/> commits.</summary>
    public static void ProductChanged(this EmporiumDbContext db, long productId) => Table.GetOrCreateValue(db).Products.Add(productId);

    /// <summary>As <see cref="ProductChanged"/>, for many products.</summary>
    public static void ProductsChanged(this EmporiumDbContext db, IEnumerable<long> productIds) => Table.GetOrCreateValue(db).Products.UnionWith(productIds);

    /// <summary>Every product's cached reads are superseded once the change commits: for writes that reach many products.</summary>
    public static void CatalogChanged(this EmporiumDbContext db) => Table.GetOrCreateValue(db).Everything = true;

    internal static Pending Of(DbContext db) => Table.GetOrCreateValue(db);

    internal static Pending? Find(DbContext db) => Table.TryGetValue(db, out var pending) ? pending : null;
}

/// <summary>
/// Supersedes cached catalog reads after a change commits and before the writer goes on (so before it answers): after
/// SaveChanges outside a transaction, on commit inside one, and after a statement run outside a transaction for changes
/// marked through <see cref="CatalogChanges"/>. A rollback forgets them.
/// </summary>
public sealed class CatalogChangeInterceptor(IServiceProvider services) : AfterCommitInterceptor, IDbCommandInterceptor
{
    // Resolved late: the cache's own services are built after the DbContext options that hold this interceptor.
    private CatalogCache Cache => services.GetRequiredService<CatalogCache>();

    protected override ValueTask CommittedAsync(DbContext context) => FlushAsync(context);

    int IDbCommandInterceptor.NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        if (eventData.Context is { } context && context.Database.CurrentTransaction is null)
        {
            FlushAsync(context).AsTask().GetAwaiter().GetResult();
        }

        return result;
    }

    async ValueTask<int> IDbCommandInterceptor.NonQueryExecutedAsync(
        DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken)
    {
        if (eventData.Context is { } context && context.Database.CurrentTransaction is null)
        {
            await FlushAsync(context);
        }

        return result;
    }

    protected override void Collect(DbContext context)
    {
        CatalogChanges.Pending? pending = null;
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is EntityState.Unchanged or EntityState.Detached)
            {
                continue;
            }

            switch (entry.Entity)
            {
                case Product or Variant or ProductImage:
                    (pending ??= CatalogChanges.Of(context)).Saving.Add(entry);
                    break;
                case Brand or Category or ProductAttribute or AttributeValue:
                    (pending ??= CatalogChanges.Of(context)).SavingEverything = true;
                    break;
                case Dictionary<string, object> when entry.Metadata.FindProperty("product_id") is not null:
                    (pending ??= CatalogChanges.Of(context)).Saving.Add(entry);
                    break;
            }
        }
    }

    protected override ValueTask SavedAsync(DbContext context)
    {
        if (CatalogChanges.Find(context) is not { } pending)
        {
            return ValueTask.CompletedTask;
        }

        // Read after the save: a new product's id is known only now.
        foreach (var entry in pending.Saving)
        {
            pending.Products.Add(entry.Entity switch
            {
                Product product => product.Id,
                Variant variant => variant.ProductId,
                ProductImage image => image.ProductId,
                _ => (long)entry.Property("product_id").CurrentValue!,
            });
        }

        pending.Everything |= pending.SavingEverything;
        pending.Saving.Clear();
        pending.SavingEverything = false;
        return context.Database.CurrentTransaction is null ? FlushAsync(context) : ValueTask.CompletedTask;
    }

    private async ValueTask FlushAsync(DbContext context)
    {
        if (CatalogChanges.Find(context) is not { IsEmpty: false } pending)
        {
            return;
        }

        var products = pending.Products.ToList();
        var everything = pending.Everything;
        pending.Products.Clear();
        pending.Everything = false;
        try
        {
            await Cache.ChangedAsync(products, everything, CancellationToken.None);
        }
        catch (Exception exception)
        {
            // The change is committed: failing the request now would make a client retry a write that happened. The
            // stamps remember a raise they could not make (and supersede everything once they can).
            services.GetRequiredService<ILogger<CatalogChangeInterceptor>>().LogError(exception, "Superseding cached catalog reads failed");
        }
    }

    protected override void ForgetSaving(DbContext context)
    {
        if (CatalogChanges.Find(context) is { } pending)
        {
            pending.Saving.Clear();
            pending.SavingEverything = false;
        }
    }

    protected override void Forget(DbContext context)
    {
        if (CatalogChanges.Find(context) is { } pending)
        {
            pending.Products.Clear();
            pending.Everything = false;
            ForgetSaving(context);
        }
    }
}
