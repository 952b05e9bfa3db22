namespace Emporium.Features.Events;

public static class EventsFeature
{
    public static WebApplicationBuilder AddEvents(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<IEventOutbox, EventOutbox>();
        return builder;
    }
}
