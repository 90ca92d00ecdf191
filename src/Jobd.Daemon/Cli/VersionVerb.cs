using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Jobd.Cli;

public static class VersionVerb
{
    public static string Version { get; } =
        typeof(VersionVerb).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static string Describe() =>
        $"jobd {Version} ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.RuntimeIdentifier}, " +
        (RuntimeFeature.IsDynamicCodeSupported ? "jit" : "native-aot") + ")";
}
