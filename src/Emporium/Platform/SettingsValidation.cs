namespace Emporium.Platform;

public static class SettingsValidation
{
    /// <summary>
    /// Binds <typeparamref name="T"/> to its configuration section and checks its data annotations when the process
    /// starts (<see cref="SettingsAreValid"/> reports what is wrong); chain PostConfigure for environment fallbacks.
    /// </summary>
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services, string section)
        where T : class =>
        services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();

    /// <summary>
    /// Validates every options class registered with ValidateOnStart before anything else runs, so a wrong
    /// setting stops the process with one line per problem (naming the setting) instead of a stack trace.
    /// </summary>
    public static bool SettingsAreValid(this WebApplication app)
    {
        try
        {
            app.Services.GetService<IStartupValidator>()?.Validate();
            return true;
        }
        catch (Exception exception) when (exception is OptionsValidationException or AggregateException or InvalidOperationException)
        {
            foreach (var failure in Failures(exception))
            {
                Console.Error.WriteLine($"Emporium cannot start: invalid setting: {failure}");
            }

            Environment.ExitCode = 2;
            return false;
        }
    }

    private static IEnumerable<string> Failures(Exception exception) => exception switch
    {
        AggregateException aggregate => aggregate.Flatten().InnerExceptions.SelectMany(Failures),
        OptionsValidationException validation => validation.Failures,
        // Binding errors ("Failed to convert configuration value 'x' at 'Section:Key' ...") name the key themselves.
        _ => [exception.Message],
    };
}
