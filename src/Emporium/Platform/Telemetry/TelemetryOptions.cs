namespace Emporium.Platform.Telemetry;

/// <summary>Metrics export (section Telemetry).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    public PrometheusOptions Prometheus { get; set; } = new();

    public sealed class PrometheusOptions
    {
        /// <summary>Serves the process's metrics as Prometheus text at /metrics (off by default).</summary>
        public bool Enabled { get; set; }

        /// <summary>
        /// The secret a scraper sends as `Authorization: Bearer {token}`. /metrics is never anonymous: without this only
        /// an admin's access token reads it.
        /// </summary>
        public string? Token { get; set; }
    }
}
