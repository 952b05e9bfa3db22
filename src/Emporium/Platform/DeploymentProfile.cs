namespace Emporium.Platform;

/// <summary>
/// Which of the two profiles this process runs (docs/architecture.md): the embedded default (one process, a database file
/// next to it, no setup) or production (a database server, any number of processes). Registered by the infrastructure,
/// which knows which database it was given; features ask this instead of naming a database.
/// </summary>
public sealed record DeploymentProfile(bool Embedded);
