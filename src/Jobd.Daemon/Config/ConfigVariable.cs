namespace Jobd.Config;

/// <summary>One environment variable jobd reads: what the reference table in the README is generated from.</summary>
public sealed class ConfigVariable
{
    public ConfigVariable(string name, string form, string? defaultValue, string description)
    {
        Name = name;
        Form = form;
        Default = defaultValue;
        Description = description;
    }

    public string Name { get; }

    /// <summary>The accepted form, e.g. "duration, 1s–10m".</summary>
    public string Form { get; }

    /// <summary>The default as it would be written, or null when unset means "off".</summary>
    public string? Default { get; }

    public string Description { get; }
}
