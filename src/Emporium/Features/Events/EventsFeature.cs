namespace Emporium.Features.Events;

public static class EventsFeature
{
    public static WebApplicationBuilder AddEvents(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<IEventOutbox, EventOutbox>();
        builder.Services.AddSettings<EventsOptions>(EventsOptions.Section);
        return builder;
    }
}
