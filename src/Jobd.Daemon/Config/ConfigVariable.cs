namespace Jobd.Config;

/// <summary>One environment variable jobd reads: what the reference table in the README is generated from.</summary>
public sealed class ConfigVariable
{
    public ConfigVariable(string name, string form, string? defaultValue, string description, string? familyPrefix = null)
    {
        FamilyPrefix = familyPrefix;
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

    /// <summary>
    /// Set for a family of variables sharing a prefix, one per user-chosen name (e.g. JOBD_ROUTE_&lt;TYPE&gt; has
    /// "JOBD_ROUTE_"); <see cref="Name"/> is then the pattern shown in the reference.
    /// </summary>
    public string? FamilyPrefix { get; }

    public bool Matches(string name) => FamilyPrefix is null
        ? name == Name
        : name.Length > FamilyPrefix.Length && name.StartsWith(FamilyPrefix, System.StringComparison.Ordinal);
}
