using System;

namespace Jobd.Config;

/// <summary>
/// A configuration variable that is unknown or malformed. The message is exactly one line naming the variable,
/// what is wrong and the expected form; it never carries a secret (URL values are not echoed).
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string variable, string problem)
        : base(variable + ": " + problem)
    {
        Variable = variable;
    }

    public string Variable { get; }
}
