using Microsoft.AspNetCore.Identity;

namespace Emporium.Features.Identity;

public sealed class User : IdentityUser<long>
{
    public DateTime CreatedAt { get; set; }
}

public sealed class Role : IdentityRole<long>
{
    public Role()
    {
    }

    public Role(string name)
        : base(name)
    {
    }
}
