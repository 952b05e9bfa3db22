namespace Emporium.Features.Import;

/// <summary>
/// The bound of a bulk delete: the highest product id such that no lower id is still to commit. Reading the largest id is
/// not enough where writers commit out of id order (PostgreSQL: two import lanes, a slow API create): a product inserted
/// before the request and committed after it would have an id below the bound and be swept, though the request never saw it.
/// </summary>
public interface ICommittedProductIds
{
    Task<long> HighestAsync(CancellationToken cancellationToken);
}
