using System.Collections.Generic;
using Jobd.Config;

namespace Jobd.Handlers.Routes;

/// <summary>The route lines of `jobd config`; secrets appear as "(set)", never their value.</summary>
internal static class RoutePrinter
{
    public static void Add(List<(string, string?, bool)> list, RouteTable t, IReadOnlyDictionary<string, string> env)
    {
        bool IsDefault(ConfigVariable v) => !env.TryGetValue(v.Name, out var s) || s.Trim().Length == 0;
        foreach (var (type, r) in t.ByType) list.Add((ConfigSchema.Route.FamilyPrefix + type, r.Text, false));
        list.Add((ConfigSchema.DefaultRoute.Name, t.Default?.Text, IsDefault(ConfigSchema.DefaultRoute)));
        list.Add((ConfigSchema.HttpSecret.Name, t.HttpSecret is null ? null : "(set)", IsDefault(ConfigSchema.HttpSecret)));
        list.Add((ConfigSchema.HttpSecretNext.Name, t.HttpSecretNext is null ? null : "(set)", IsDefault(ConfigSchema.HttpSecretNext)));
        list.Add((ConfigSchema.HttpAllow.Name, t.HttpAllow is null ? null : string.Join(',', t.HttpAllow), IsDefault(ConfigSchema.HttpAllow)));
        list.Add((ConfigSchema.HttpRedirects.Name, t.HttpRedirects ? "true" : "false", IsDefault(ConfigSchema.HttpRedirects)));
        list.Add((ConfigSchema.MaxResultBytes.Name, ValueParsers.FormatSize(t.MaxResultBytes), IsDefault(ConfigSchema.MaxResultBytes)));
        list.Add((ConfigSchema.ExecEnv.Name, string.Join(',', t.ExecEnv), IsDefault(ConfigSchema.ExecEnv)));
        list.Add((ConfigSchema.ExecDir.Name, t.ExecDir, IsDefault(ConfigSchema.ExecDir)));
    }
}
