using System.IO;
using Xunit;

namespace Jobd.Testing;

/// <summary>
/// A fact that needs an optional system tool (systemd-analyze): it runs where the program exists and is reported
/// as skipped, with the reason, where it does not, so a missing tool never reads as a pass.
/// </summary>
public sealed class FactWhenInstalledAttribute : FactAttribute
{
    public FactWhenInstalledAttribute(string program, string package)
    {
        if (!File.Exists(program))
            Skip = $"{program} is not installed (Debian package {package}; packaging/dev/deps.sh installs it)";
    }
}
