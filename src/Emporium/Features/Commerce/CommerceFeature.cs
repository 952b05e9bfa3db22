using Emporium.Features.Commerce.Carts;
using Emporium.Features.Commerce.Email;
using Emporium.Features.Commerce.Orders;
using Emporium.Features.Jobs;

namespace Emporium.Features.Commerce;

/// <summary>Selling (issue 14, decision 0016): carts, checkout, orders and the confirmation email.</summary>
public static class CommerceFeature
{
    public static WebApplicationBuilder AddCommerce(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<CommerceOptions>(CommerceOptions.Section);
        builder.Services.AddScoped<Checkout>();
        builder.Services.AddScoped<Catalog.Variants.IUnshippedUnits, UnshippedUnits>();
        builder.Services.AddJobHandler<OrderConfirmationJobHandler>(OrderConfirmationJobHandler.KindName);
        builder.Services.AddHostedService<IdempotencyKeyPurge>();
        builder.Services.AddSingleton<UnpaidOrderExpiry>();
        builder.Services.AddHostedService(services => services.GetRequiredService<UnpaidOrderExpiry>());
        return builder;
    }

    public static IEndpointRouteBuilder MapCommerce(this IEndpointRouteBuilder app)
    {
        app.MapCart();
        app.MapOrders();
        return app;
    }
}
